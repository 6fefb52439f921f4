/**
 * The event store's tables as kysely sees them, and the mapping from a selected row to a
 * RecordedEvent. bigint columns are always selected as `::text` (see platform/database.ts), so
 * their row types here are strings.
 */
import type { ColumnType, Kysely } from 'kysely';
import type { RecordedEvent } from '../port.js';

export interface KeelEventsTable {
  position: ColumnType<string, string | bigint, never>;
  stream_id: string;
  revision: ColumnType<string, string | bigint, never>;
  event_id: string;
  type: string;
  schema_version: ColumnType<number, number | undefined, never>;
  data: unknown;
  metadata: Readonly<Record<string, unknown>>;
  created_at: ColumnType<Date, never, never>;
}

// A type alias, not an interface: kysely's withTables<T>() needs an index-compatible type.
export type EventStoreTables = {
  keel_events: KeelEventsTable;
};

export type EventStoreDb = Kysely<EventStoreTables>;

/** A keel_events row as selected by the read queries (bigints as text). */
export interface EventRow {
  position: string;
  stream_id: string;
  revision: string;
  event_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: Readonly<Record<string, unknown>> | null;
  /** A Date, its text, or epoch milliseconds (what the reads select). */
  created_at: Date | string | number;
}

/** `streamId` is given apart: a stream's own read does not select it. */
export const toRecordedEvent = (row: Omit<EventRow, 'stream_id'>, streamId: string): RecordedEvent => ({
  id: row.event_id,
  streamId,
  type: row.type,
  data: row.data,
  metadata: row.metadata ?? {},
  schemaVersion: row.schema_version,
  revision: BigInt(row.revision),
  position: BigInt(row.position),
  createdAt: row.created_at instanceof Date ? row.created_at : new Date(typeof row.created_at === 'number' ? Math.trunc(row.created_at) : row.created_at),
});

/** Position bits reserved for the index of an event within its transaction. */
export const POSITION_INDEX_BITS = 20n;
/** At most this many events per transaction (the rest of the position is the transaction id). */
export const MAX_EVENTS_PER_TRANSACTION = 2 ** 20 - 1;
