/**
 * The event index's one table: `event_refs`, a row per (reference, event). A reference names what an
 * event is about — itself (`event:<id>`), its causal chain (`correlation:<id>`) or an entity its data
 * names (`order:<id>`, `payment:<id>`, `product:<id>`) — so `keel explain` finds an order's events
 * across streams with one index lookup instead of a scan of `$all`. The primary key (ref, position)
 * is that index, and makes re-inserting a row a no-op.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Int8 } from '../support/sql.js';
import { qualified } from '../support/sql.js';

export interface EventRefsTable {
  ref: string;
  position: Int8;
  stream_id: string;
  revision: Int8;
}

export type EventIndexTables = {
  event_refs: EventRefsTable;
};
export type EventIndexDb = Kysely<EventIndexTables>;

export const EVENT_INDEX_TABLES = ['event_refs'] as const;

/** Columns of `event_refs`: a multi-row insert binds this many parameters per row. */
export const EVENT_REFS_COLUMNS = 4;

export const createEventIndexTables = async (db: Kysely<unknown>, schema: string): Promise<void> => {
  await sql`CREATE TABLE ${qualified(schema, 'event_refs')} (
    ref text NOT NULL,
    position int8 NOT NULL,
    stream_id text NOT NULL,
    revision int8 NOT NULL,
    PRIMARY KEY (ref, position)
  )`.execute(db);
};
