/**
 * A small projection for the engine's tests (not a production read model): per stream, how many
 * `Counted` events and the sum of their `n`; plus one totals row. A `Poisoned` event with
 * `{ poison: true }` throws unless `isCured()` says otherwise, to exercise parking.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { EventData, EventStore, RecordedEvent } from '../../src/eventstore/port.js';
import type { Projection, ProjectionChange } from '../../src/projections/projection.js';

export const COUNTED = 'Counted';
export const POISONED = 'Poisoned';

export interface TestProjectionOptions {
  readonly name?: string;
  readonly version?: number;
  readonly isCured?: (event: RecordedEvent) => boolean;
}

const valueOf = (event: RecordedEvent): number => {
  const data = event.data as { n?: unknown; poison?: unknown };
  return typeof data.n === 'number' ? data.n : 0;
};

export const testProjection = (options: TestProjectionOptions = {}): Projection => ({
  name: options.name ?? 'test_counts',
  description: 'Test model: events and sum per stream, and totals',
  version: options.version ?? 1,
  eventTypes: [COUNTED, POISONED],
  tables: ['stream_counts', 'totals'],
  keyOf: (event) => event.streamId,
  createTables: async (db, schema) => {
    await sql`create table ${sql.id(schema, 'stream_counts')} (stream_id text primary key, events integer not null,
      total bigint not null, last_position bigint not null)`.execute(db);
    await sql`create table ${sql.id(schema, 'totals')} (id integer primary key, events integer not null, total bigint not null)`.execute(db);
  },
  apply: async (trx, events, { schema }) => {
    const perStream = new Map<string, { events: number; total: number; last: bigint }>();
    let count = 0;
    let sum = 0;
    for (const event of events) {
      if (event.type === POISONED && (event.data as { poison?: unknown }).poison === true && options.isCured?.(event) !== true) {
        throw new Error(`poisoned event ${event.id} in ${event.streamId}`);
      }
      const entry = perStream.get(event.streamId) ?? { events: 0, total: 0, last: -1n };
      entry.events += 1;
      entry.total += valueOf(event);
      entry.last = event.position;
      perStream.set(event.streamId, entry);
      count += 1;
      sum += valueOf(event);
    }
    if (perStream.size === 0) return [];
    const rows = [...perStream].map(([id, e]) => sql`(${id}, ${e.events}, ${e.total}, ${e.last.toString()}::bigint)`);
    await sql`insert into ${sql.id(schema, 'stream_counts')} as s (stream_id, events, total, last_position) values ${sql.join(rows)}
      on conflict (stream_id) do update set events = s.events + excluded.events, total = s.total + excluded.total,
      last_position = excluded.last_position`.execute(trx);
    await sql`insert into ${sql.id(schema, 'totals')} as t (id, events, total) values (1, ${count}, ${sum})
      on conflict (id) do update set events = t.events + excluded.events, total = t.total + excluded.total`.execute(trx);
    const position = events.at(-1)?.position ?? -1n;
    return [...perStream.keys()].map((id): ProjectionChange => ({ topic: `stream:${id}`, position, payload: { streamId: id } }));
  },
});

export const counted = (n: number): EventData => ({
  id: randomUUID(),
  type: COUNTED,
  data: { n },
  metadata: { commandId: randomUUID(), correlationId: 'c', causationId: 'c', actor: 'test', timestamp: '2026-11-30T00:00:00.000Z' },
});

export const poisoned = (): EventData => ({ ...counted(0), type: POISONED, data: { poison: true, n: 1000 } });

/** Appends `count` Counted events spread over `streams` streams, `perAppend` per append; returns the last position. */
export const appendCounted = async (store: EventStore, prefix: string, count: number, streams = 10, perAppend = 100): Promise<bigint> => {
  let last = -1n;
  for (let done = 0; done < count; ) {
    const size = Math.min(perAppend, count - done);
    const stream = `${prefix}-${Math.floor(done / perAppend) % streams}`;
    const result = await store.append(stream, Array.from({ length: size }, (_, i) => counted((done + i) % 7)));
    last = result.position;
    done += size;
  }
  return last;
};

/**
 * Two streams whose poisoned event the test model parks, each with an event waiting behind it
 * (`park-a` also has one applied before it): 4 parked or waiting rows, one to retry, one to skip.
 * Returns the last position.
 */
export const appendParkedPairs = async (store: EventStore): Promise<bigint> => {
  await store.append('park-a', [counted(1)]);
  await store.append('park-a', [poisoned()]);
  await store.append('park-a', [counted(2)]);
  await store.append('park-b', [poisoned()]);
  return (await store.append('park-b', [counted(3)])).position;
};

export interface Snapshot {
  readonly streams: readonly { stream_id: string; events: number; total: string }[];
  readonly totals: readonly { events: number; total: string }[];
}

/** The read model's rows in `schema`, in a comparable form. */
export const snapshot = async (db: Kysely<unknown>, schema: string): Promise<Snapshot> => {
  const { rows: streams } = await sql<{ stream_id: string; events: number; total: string }>`select stream_id, events, total::text as total
    from ${sql.id(schema, 'stream_counts')} order by stream_id collate "C"`.execute(db);
  const { rows: totals } = await sql<{ events: number; total: string }>`select events, total::text as total from ${sql.id(schema, 'totals')}`.execute(db);
  return { streams, totals };
};

/** What the model must hold: the projection applied to every matching event up to `upTo`, skipping those `skip` says. */
export const expectedSnapshot = async (store: EventStore, upTo: bigint, skip: (e: RecordedEvent) => boolean = () => false): Promise<Snapshot> => {
  const perStream = new Map<string, { events: number; total: number }>();
  let events = 0;
  let total = 0;
  for await (const event of store.readAll({ filter: { eventTypes: [COUNTED, POISONED] } })) {
    if (event.position > upTo) break;
    if (skip(event)) continue;
    const entry = perStream.get(event.streamId) ?? { events: 0, total: 0 };
    entry.events += 1;
    entry.total += valueOf(event);
    perStream.set(event.streamId, entry);
    events += 1;
    total += valueOf(event);
  }
  const streams = [...perStream]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([stream_id, e]) => ({ stream_id, events: e.events, total: String(e.total) }));
  return { streams, totals: events === 0 ? [] : [{ events, total: String(total) }] };
};

/** Builds `projection` from scratch into `schema` (up to `upTo`), outside the engine: the reference a live model must equal. */
export const buildFromScratch = async (db: Kysely<unknown>, store: EventStore, projection: Projection, schema: string, upTo: bigint): Promise<void> => {
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
  await sql`create schema ${sql.id(schema)}`.execute(db);
  await projection.createTables(db, schema);
  let batch: RecordedEvent[] = [];
  const flush = async (): Promise<void> => {
    const events = batch;
    batch = [];
    if (events.length > 0) await db.transaction().execute((trx) => projection.apply(trx, events, { schema, rebuilding: true }));
  };
  for await (const event of store.readAll({ filter: { eventTypes: projection.eventTypes } })) {
    if (event.position > upTo) break;
    batch.push(event);
    if (batch.length >= 2_000) await flush();
  }
  await flush();
};
