/**
 * Parked events (`keel_projection_parked`), the one owner of that table: every SQL statement on it
 * lives here (the migration aside). A `parked` row is an event that kept failing; `blocked`
 * rows are later events of the same key waiting behind it (`blocked_by` = the parked row's id);
 * `skipped` rows were given up by an operator. Rows keep the whole event, so retry needs no re-read.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { RecordedEvent } from '../../eventstore/port.js';

export type ParkedStatus = 'parked' | 'blocked' | 'skipped';

export interface ParkedEvent {
  readonly id: string;
  readonly name: string;
  readonly generation: number;
  readonly status: ParkedStatus;
  readonly key: string;
  readonly blockedBy: string | null;
  readonly error: string | null;
  readonly attempts: number;
  readonly parkedAt: Date;
  readonly event: RecordedEvent;
}

interface StoredEvent {
  id: string;
  streamId: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  schemaVersion: number;
  revision: string;
  position: string;
  createdAt: string;
}

const serialise = (event: RecordedEvent): string =>
  JSON.stringify({
    id: event.id,
    streamId: event.streamId,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    schemaVersion: event.schemaVersion,
    revision: event.revision.toString(),
    position: event.position.toString(),
    createdAt: event.createdAt.toISOString(),
  } satisfies StoredEvent);

const deserialise = (raw: unknown): RecordedEvent => {
  const stored = (typeof raw === 'string' ? JSON.parse(raw) : raw) as StoredEvent;
  return {
    id: stored.id,
    streamId: stored.streamId,
    type: stored.type,
    data: stored.data,
    metadata: stored.metadata,
    schemaVersion: stored.schemaVersion,
    revision: BigInt(stored.revision),
    position: BigInt(stored.position),
    createdAt: new Date(stored.createdAt),
  };
};

interface RawParked {
  id: string;
  name: string;
  generation: number;
  status: string;
  key: string;
  blocked_by: string | null;
  error: string | null;
  attempts: number;
  parked_at: Date | string;
  event: unknown;
}

const toParked = (raw: RawParked): ParkedEvent => ({
  id: raw.id,
  name: raw.name,
  generation: Number(raw.generation),
  status: raw.status === 'blocked' ? 'blocked' : raw.status === 'skipped' ? 'skipped' : 'parked',
  key: raw.key,
  blockedBy: raw.blocked_by,
  error: raw.error,
  attempts: Number(raw.attempts),
  parkedAt: raw.parked_at instanceof Date ? raw.parked_at : new Date(raw.parked_at),
  event: deserialise(raw.event),
});

const COLUMNS = sql`id::text as id, name, generation, status, key, blocked_by::text as blocked_by, error, attempts, parked_at, event`;

export interface ParkRow {
  readonly event: RecordedEvent;
  readonly key: string;
  readonly status: 'parked' | 'blocked';
  readonly blockedBy: string | null;
  readonly error: string | null;
  readonly attempts: number;
}

/** Inserts rows; returns their ids in order. */
export const insertParked = async (trx: Transaction<unknown>, name: string, generation: number, rows: readonly ParkRow[]): Promise<string[]> => {
  if (rows.length === 0) return [];
  const values = rows.map(
    (row) => sql`(${name}, ${generation}, ${row.event.position.toString()}::bigint, ${row.event.id}, ${row.event.streamId}, ${row.event.type},
      ${row.key}, ${row.status}, ${row.blockedBy}::bigint, ${serialise(row.event)}::jsonb, ${row.error}, ${row.attempts})`,
  );
  const { rows: ids } = await sql<{ id: string }>`insert into keel_projection_parked
    (name, generation, position, event_id, stream_id, type, key, status, blocked_by, event, error, attempts)
    values ${sql.join(values)} returning id::text as id`.execute(trx);
  return ids.map((row) => row.id);
};

/** Keys waiting behind a parked event: key → id of the parked row. */
export const loadBlockedKeys = async (db: Kysely<unknown>, name: string, generation: number): Promise<Map<string, string>> => {
  const { rows } = await sql<{ key: string; id: string }>`select key, id::text as id from keel_projection_parked
    where name = ${name} and generation = ${generation} and status = 'parked'`.execute(db);
  return new Map(rows.map((row) => [row.key, row.id]));
};

export const listParked = async (db: Kysely<unknown>, name: string, generation: number, includeSkipped = false): Promise<ParkedEvent[]> => {
  const statuses = includeSkipped ? ['parked', 'blocked', 'skipped'] : ['parked', 'blocked'];
  const { rows } = await sql<RawParked>`select ${COLUMNS} from keel_projection_parked
    where name = ${name} and generation = ${generation} and status in (${sql.join(statuses)}) order by position`.execute(db);
  return rows.map(toParked);
};

/** Parked plus blocked events per projection and generation: name → generation → count. */
export const countParked = async (db: Kysely<unknown>): Promise<Map<string, Map<number, number>>> => {
  const { rows } = await sql<{ name: string; generation: number; n: number }>`select name, generation, count(*)::int as n
    from keel_projection_parked where status in ('parked', 'blocked') group by name, generation`.execute(db);
  const counts = new Map<string, Map<number, number>>();
  for (const row of rows) {
    const byGeneration = counts.get(row.name) ?? new Map<number, number>();
    byGeneration.set(Number(row.generation), Number(row.n));
    counts.set(row.name, byGeneration);
  }
  return counts;
};

/** Parked plus blocked events of one generation. */
export const countParkedIn = async (db: Kysely<unknown>, name: string, generation: number): Promise<number> => {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from keel_projection_parked
    where name = ${name} and generation = ${generation} and status in ('parked', 'blocked')`.execute(db);
  return Number(rows[0]?.n ?? 0);
};

export const readParked = async (trx: Kysely<unknown>, name: string, id: string): Promise<ParkedEvent | undefined> => {
  const { rows } = await sql<RawParked>`select ${COLUMNS} from keel_projection_parked where name = ${name} and id = ${id}::bigint`.execute(trx);
  return rows[0] ? toParked(rows[0]) : undefined;
};

/** The events waiting behind parked row `id`, in position order. */
export const blockedBehind = async (trx: Transaction<unknown>, id: string): Promise<ParkedEvent[]> => {
  const { rows } = await sql<RawParked>`select ${COLUMNS} from keel_projection_parked
    where blocked_by = ${id}::bigint and status = 'blocked' order by position`.execute(trx);
  return rows.map(toParked);
};

export const deleteParked = async (trx: Transaction<unknown>, ids: readonly string[]): Promise<void> => {
  if (ids.length === 0) return;
  await sql`delete from keel_projection_parked where id in (${sql.join(ids.map((id) => sql`${id}::bigint`))})`.execute(trx);
};

export const markFailedAgain = async (trx: Transaction<unknown>, id: string, error: string): Promise<void> => {
  await sql`update keel_projection_parked set status = 'parked', blocked_by = null, error = ${error}, attempts = attempts + 1
    where id = ${id}::bigint`.execute(trx);
};

export const markSkipped = async (trx: Transaction<unknown>, id: string): Promise<void> => {
  await sql`update keel_projection_parked set status = 'skipped' where id = ${id}::bigint`.execute(trx);
};

export const reassignBlocked = async (trx: Transaction<unknown>, ids: readonly string[], blockedBy: string): Promise<void> => {
  if (ids.length === 0) return;
  await sql`update keel_projection_parked set blocked_by = ${blockedBy}::bigint
    where id in (${sql.join(ids.map((id) => sql`${id}::bigint`))})`.execute(trx);
};

export const deleteGeneration = async (trx: Kysely<unknown>, name: string, generation: number): Promise<void> => {
  await sql`delete from keel_projection_parked where name = ${name} and generation = ${generation}`.execute(trx);
};

export const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error)).slice(0, 2_000);
