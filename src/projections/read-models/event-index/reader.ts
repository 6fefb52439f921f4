/**
 * Reading the event index (what `keel explain` asks): the events that carry any of some references,
 * by position, from the live schema; and how far the index has got, so a caller can scan only the
 * tail of `$all` beyond it. Before the projection ever ran there is nothing to read: lookups answer
 * [] and the checkpoint is undefined, rather than failing on tables that do not exist yet.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { readControl } from '../../engine/index.js';
import { liveSchemaOf } from '../../projection.js';
import { asText } from '../support/sql.js';
import type { EventIndexDb, EventIndexTables } from './tables.js';

export const EVENT_INDEX = 'event_index';

/** Where one indexed event is: enough to read it back from its stream. */
export interface IndexedEventRef {
  readonly position: bigint;
  readonly streamId: string;
  readonly revision: bigint;
}

/** `undefined_table` and `invalid_schema_name`: the live schema or the control table is not there yet. */
const MISSING = new Set(['42P01', '3F000']);

const isMissingRelation = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && 'code' in error && MISSING.has(String(error.code));

const orNothing = async <T>(read: () => Promise<T>, nothing: T): Promise<T> => {
  try {
    return await read();
  } catch (error) {
    if (isMissingRelation(error)) return nothing;
    throw error;
  }
};

const live = (db: Kysely<unknown>): EventIndexDb => db.withSchema(liveSchemaOf(EVENT_INDEX)).withTables<EventIndexTables>();

/** One query: the distinct events having any of `refs`, in position order. */
const lookup = async (db: Kysely<unknown>, refs: readonly string[]): Promise<IndexedEventRef[]> => {
  if (refs.length === 0) return [];
  const rows = await live(db)
    .selectFrom('event_refs')
    .select([asText('event_refs.position').as('position'), 'event_refs.stream_id', asText('event_refs.revision').as('revision')])
    .where('event_refs.ref', '=', sql<string>`any(${[...new Set(refs)]})`)
    .groupBy(['event_refs.position', 'event_refs.stream_id', 'event_refs.revision'])
    // Qualified: a bare name would order by the selected `::text` alias ('900' after '1000').
    .orderBy('event_refs.position')
    .execute();
  return rows.map((row) => ({ position: BigInt(row.position), streamId: row.stream_id, revision: BigInt(row.revision) }));
};

/** The committed position (-1 once started with nothing applied yet); undefined if it never ran. */
const checkpoint = async (db: Kysely<unknown>): Promise<bigint | undefined> => (await readControl(db, EVENT_INDEX))?.position;

export const createEventIndexReader = (db: Kysely<unknown>) => ({
  /** The events carrying any of `refs` (e.g. `order:o-1`, see refsOf), each once, by position; [] before the projection ever ran. */
  lookup: (refs: readonly string[]): Promise<IndexedEventRef[]> => orNothing(() => lookup(db, refs), []),
  /** How far the index is complete: every event at or below it is indexed; undefined before it ever ran. */
  checkpoint: (): Promise<bigint | undefined> => orNothing(() => checkpoint(db), undefined),
});

export type EventIndexReader = ReturnType<typeof createEventIndexReader>;
