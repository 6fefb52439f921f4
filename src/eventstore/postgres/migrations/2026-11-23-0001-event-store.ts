/**
 * The PostgreSQL event store: one table of events and the append functions.
 *
 * position = (top-level transaction id << 20) + index of the event in its transaction. Readers of
 * `$all` stop below `pg_snapshot_xmin << 20`, where every transaction has finished, so nothing can
 * ever appear at or below a delivered position.
 *
 * Appends lock their streams with transaction-scoped advisory locks BEFORE anything assigns the
 * transaction id (advisory locks take none; a row lock or an UPDATE does, before waiting). So the
 * previous writer of a stream has finished before we get our id, our id is larger than its id, and
 * a stream's revisions are in position order. Without that, a batch that got its id first and then
 * waited for a stream could commit revision r+1 below revision r in `$all`.
 *
 * Self-contained on purpose (migrations never import today's code): the lock class 1801807212
 * ('keel' in ASCII) keeps the stream locks apart from the single-bigint advisory keys others use.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { APPEND_FUNCTIONS } from './2026-11-23-0001-append-functions.js';

export const up = async (db: Kysely<unknown>): Promise<void> => {
  await db.schema
    .createTable('keel_events')
    .addColumn('position', 'bigint', (c) => c.primaryKey())
    .addColumn('stream_id', 'text', (c) => c.notNull())
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('event_id', 'uuid', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('schema_version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('data', 'jsonb', (c) => c.notNull())
    .addColumn('metadata', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('keel_events_event_id_key', ['event_id'])
    .addUniqueConstraint('keel_events_stream_revision_key', ['stream_id', 'revision'])
    .execute();
  // (stream_id, revision) also finds a stream's current revision: its last entry. There is no
  // index on type: it cost a quarter of the append's time, and filtered reads walk the primary key
  // in bounded slices instead (see read.ts).
  for (const statement of APPEND_FUNCTIONS) await sql.raw(statement).execute(db);
};

export const down = async (db: Kysely<unknown>): Promise<void> => {
  await sql.raw('drop function if exists keel_append_batch(jsonb)').execute(db);
  await sql.raw('drop function if exists keel_append(text, text, jsonb)').execute(db);
  await sql.raw('drop function if exists keel_next_position()').execute(db);
  await sql.raw('drop function if exists keel_append_locked(text, text, jsonb, bigint)').execute(db);
  await db.schema.dropTable('keel_events').ifExists().execute();
};
