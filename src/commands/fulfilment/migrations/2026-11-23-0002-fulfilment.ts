import { sql, type Kysely } from 'kysely';

/** The process manager's own bookkeeping: where it has read up to, and the orders it must time out. */
export const up = async (db: Kysely<unknown>): Promise<void> => {
  await sql`CREATE TABLE IF NOT EXISTS keel_process_checkpoints (
    name text PRIMARY KEY,
    position bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await sql`CREATE TABLE IF NOT EXISTS keel_fulfilment_deadlines (
    order_id text PRIMARY KEY,
    expires_at timestamptz NOT NULL
  )`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS keel_fulfilment_deadlines_due ON keel_fulfilment_deadlines (expires_at)`.execute(db);
};

export const down = async (db: Kysely<unknown>): Promise<void> => {
  await sql`DROP TABLE IF EXISTS keel_fulfilment_deadlines`.execute(db);
  await sql`DROP TABLE IF EXISTS keel_process_checkpoints`.execute(db);
};
