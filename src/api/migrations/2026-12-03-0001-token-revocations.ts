import { sql, type Kysely } from 'kysely';

/**
 * Revoked bearer tokens, one row per subject: its tokens issued at or before `revoked_before` are
 * refused. API processes poll the rows changed since their last read (`updated_at`, indexed).
 */
export const up = async (db: Kysely<unknown>): Promise<void> => {
  await sql`CREATE TABLE IF NOT EXISTS keel_token_revocations (
    subject text PRIMARY KEY,
    revoked_before timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
  )`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS keel_token_revocations_updated ON keel_token_revocations (updated_at)`.execute(db);
};

export const down = async (db: Kysely<unknown>): Promise<void> => {
  await sql`DROP TABLE IF EXISTS keel_token_revocations`.execute(db);
};
