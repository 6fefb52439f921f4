/**
 * Regression guard for the classic event-store bug: a subscriber that reads by position skips an
 * event whose transaction took a lower position but committed later. Here 16 writers commit out
 * of position order on purpose (random sleeps before COMMIT, some ROLLBACKs), and subscribers must
 * still deliver every committed event exactly once, in position order, live and catching up.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEventStore } from '../../../src/eventstore/open.js';
import type { EventStore, RecordedEvent } from '../../../src/eventstore/port.js';
import { openDatabase } from '../../../src/platform/database.js';
import type { DatabaseHandle } from '../../../src/platform/database.js';
import { createTestDatabase } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';
import { eventsOf, follow, newEvents } from '../../support/event-store-fixtures.js';
import { outOfOrderCommits, runWriters } from '../../support/event-store-writers.js';
import type { WriterReport } from '../../support/event-store-writers.js';

const streams = (label: string): string[] => Array.from({ length: 8 }, (_, i) => `${label}-${i}`);

const writerOptions = (url: string, label: string) => ({
  url,
  writers: 16,
  transactionsPerWriter: 25,
  streams: streams(label),
  rollbackRate: 0.2,
  maxSleepMs: 20,
});

/** Positions strictly increasing; each stream's revisions dense and in order. */
const expectOrdered = (delivered: readonly RecordedEvent[]): void => {
  for (let i = 1; i < delivered.length; i++) expect((delivered[i]?.position ?? 0n) > (delivered[i - 1]?.position ?? 0n)).toBe(true);
  const revisions = new Map<string, bigint[]>();
  for (const e of delivered) revisions.set(e.streamId, [...(revisions.get(e.streamId) ?? []), e.revision]);
  for (const list of revisions.values()) expect(list).toEqual(list.map((_, i) => BigInt(i)));
};

/** Every committed event exactly once, nothing rolled back, and in order. */
const expectExactlyOnce = (delivered: readonly RecordedEvent[], report: WriterReport): void => {
  const ids = delivered.map((e) => e.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(new Set(ids)).toEqual(new Set(report.committed.map((e) => e.id)));
  const rolledBack = new Set(report.rolledBack);
  expect(ids.filter((id) => rolledBack.has(id))).toEqual([]);
  expectOrdered(delivered);
};

describe('no skipped events (real PostgreSQL)', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  let store: EventStore;
  beforeAll(async () => {
    database = await createTestDatabase('no_skipped');
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '/nonexistent' });
    store = await openEventStore(handle);
  });
  afterAll(async () => {
    await store?.close();
    await handle?.close();
    await database?.drop();
  });

  it('a live subscriber delivers every committed event once, in position order', async () => {
    const from = await store.headPosition();
    const sub = follow(store, { after: from, filter: { streamPrefixes: ['live-'] } });
    try {
      await sub.until((m) => m.kind === 'caught-up');
      const [report] = await Promise.all([
        runWriters(writerOptions(database.url, 'live')),
        // The adapter's own (group-committed) appends run beside the hand-written transactions.
        Promise.all(Array.from({ length: 40 }, (_, i) => store.append(`live-adapter-${i % 4}`, newEvents(2)))),
      ]);
      const adapterEvents = 80;
      expect(outOfOrderCommits(report.commitOrder)).toBeGreaterThan(0);
      const expected = report.committed.length + adapterEvents;
      await sub.until(() => eventsOf(sub.seen).length >= expected, 30_000);
      const all = eventsOf(sub.seen);
      expectExactlyOnce(all.filter((e) => !e.streamId.startsWith('live-adapter-')), report);
      expect(all.filter((e) => e.streamId.startsWith('live-adapter-'))).toHaveLength(adapterEvents);
      expectOrdered(all);
    } finally {
      await sub.stop();
    }
  });

  it('a fresh subscriber catches up on out-of-order commits once, and resumes from a checkpoint', async () => {
    const from = await store.headPosition();
    const filter = { streamPrefixes: ['seeded-'] };
    const writing = runWriters(writerOptions(database.url, 'seeded'));
    // One subscriber starts catching up while the seeding transactions are still committing…
    await new Promise((resolve) => setTimeout(resolve, 150));
    const early = follow(store, { after: from, filter, batchSize: 37 });
    const report = await writing;
    expect(outOfOrderCommits(report.commitOrder)).toBeGreaterThan(0);
    // …and one once they have all finished.
    const full = follow(store, { after: from, filter, batchSize: 37 });
    try {
      // The early one may report caught-up before the last writes: it waits for the count.
      await early.until(() => eventsOf(early.seen).length >= report.committed.length, 30_000);
      // The later one must not report caught-up before it has delivered everything.
      await full.until((m) => m.kind === 'caught-up', 30_000);
      for (const sub of [early, full]) expectExactlyOnce(eventsOf(sub.seen), report);
    } finally {
      await early.stop();
      await full.stop();
    }

    // Stop midway, then resume from the last delivered position: still exactly once.
    const half = Math.floor(report.committed.length / 2);
    const first = follow(store, { after: from, filter, batchSize: 10 });
    const head = eventsOf(await first.until(() => eventsOf(first.seen).length >= half));
    await first.stop();
    const resumeFrom = head.at(-1)?.position ?? from;
    const second = follow(store, { after: resumeFrom, filter, batchSize: 10 });
    try {
      const tail = eventsOf(await second.until((m) => m.kind === 'caught-up', 30_000));
      expectExactlyOnce([...head, ...tail], report);
    } finally {
      await second.stop();
    }
  });
});

describe('stream order within $all (real PostgreSQL)', () => {
  let database: TestDatabase;
  let clients: pg.Client[];
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    clients.push(client);
    return client;
  };
  const events = (n: number): string => JSON.stringify(newEvents(n).map((e) => ({ ...e, v: 1 })));
  beforeAll(async () => {
    database = await createTestDatabase('stream_order');
    clients = [];
    const handle = await openDatabase({ databaseUrl: database.url, dataDir: '/nonexistent' });
    await (await openEventStore(handle)).close();
    await handle.close();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end()));
    await database?.drop();
  });

  it('a batch waiting for a stream holds no transaction id, so it lands after the stream holder', async () => {
    const [holder, batcher, observer] = [await connect(), await connect(), await connect()];
    const pid = (await batcher.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
    await holder.query('begin');
    const held = await holder.query<{ r_position: string }>(`select r_position::text as r_position from keel_append('order-a', 'any', $1::jsonb)`, [events(1)]);
    const batch = batcher.query<{ r_position: string }>(
      `select r_index, r_position::text as r_position from keel_append_batch($1::jsonb) order by r_index`,
      [JSON.stringify([{ s: 'order-b', e: 'any', ev: JSON.parse(events(1)) }, { s: 'order-a', e: 'any', ev: JSON.parse(events(1)) }])],
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const waiting = await observer.query<{ backend_xid: string | null; wait_event_type: string | null }>(
      `select backend_xid::text, wait_event_type from pg_stat_activity where pid = $1`,
      [pid],
    );
    expect(waiting.rows[0]).toEqual({ backend_xid: null, wait_event_type: 'Lock' });
    await holder.query('commit');
    const { rows } = await batch;
    expect(BigInt(rows[1]?.r_position ?? '0') > BigInt(held.rows[0]?.r_position ?? '0')).toBe(true);
  });

  it('two appends in one hand-written transaction refuse to put a stream out of position order', async () => {
    const [mixed, other] = [await connect(), await connect()];
    await mixed.query('begin');
    await mixed.query(`select keel_append('order-c', 'any', $1::jsonb)`, [events(1)]); // takes the transaction id
    await other.query(`select keel_append('order-d', 'any', $1::jsonb)`, [events(1)]); // later id, commits first
    await expect(mixed.query(`select keel_append('order-d', 'any', $1::jsonb)`, [events(1)])).rejects.toMatchObject({ code: '40001' });
    await mixed.query('rollback');
  });
});
