import { sql, type Kysely } from 'kysely';

/**
 * The projector engine's bookkeeping. One control row per projection: the live generation, its
 * code version, its checkpoint (written in the same transaction as the read-model rows) and its
 * state. Parked events keep the whole event, so a retry needs no re-read of the store.
 */
export const up = async (db: Kysely<unknown>): Promise<void> => {
  await sql`CREATE TABLE IF NOT EXISTS keel_projections (
    name text PRIMARY KEY,
    version integer NOT NULL,
    generation integer NOT NULL,
    position bigint NOT NULL DEFAULT -1,
    state text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'paused')),
    last_event_at timestamptz,
    parked_version integer NOT NULL DEFAULT 0,
    rebuild_generation integer,
    rebuild_version integer,
    rebuild_started_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await sql`CREATE TABLE IF NOT EXISTS keel_projection_parked (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    generation integer NOT NULL,
    position bigint NOT NULL,
    event_id text NOT NULL,
    stream_id text NOT NULL,
    type text NOT NULL,
    key text NOT NULL,
    status text NOT NULL CHECK (status IN ('parked', 'blocked', 'skipped')),
    blocked_by bigint,
    event jsonb NOT NULL,
    error text,
    attempts integer NOT NULL DEFAULT 0,
    parked_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, generation, position)
  )`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS keel_projection_parked_key ON keel_projection_parked (name, generation, key, position)`.execute(db);
};

export const down = async (db: Kysely<unknown>): Promise<void> => {
  await sql`DROP TABLE IF EXISTS keel_projection_parked`.execute(db);
  await sql`DROP TABLE IF EXISTS keel_projections`.execute(db);
};
