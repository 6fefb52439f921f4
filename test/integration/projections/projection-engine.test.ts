/**
 * The projector engine on real PostgreSQL, with the test projection: checkpoint and rows commit
 * together, batches adapt to lag, failing events are retried then parked (their key waits, other
 * keys go on) and can be retried or skipped, waitFor and lag, one leader across two handles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openEventStore } from '../../../src/eventstore/open.js';
import type { EventStore } from '../../../src/eventstore/port.js';
import { openDatabase, type DatabaseHandle } from '../../../src/platform/database.js';
import { isKeelError } from '../../../src/platform/errors.js';
import {
  listParked,
  readControl,
  retryParked,
  setState,
  skipParked,
  startProjections,
  DEFAULT_TUNING,
  type BatchInfo,
  type Projections,
} from '../../../src/projections/engine/index.js';
import { commitLiveBatch } from '../../../src/projections/engine/live-batch.js';
import { liveSchemaOf, type ProjectionChange } from '../../../src/projections/projection.js';
import { collect } from '../../support/event-store-fixtures.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { appendCounted, counted, expectedSnapshot, poisoned, snapshot, testProjection, POISONED } from '../../support/projection-test-model.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const fast = { retryBaseMs: 5, standbyRetryMs: 200, idlePollMs: 100 };

describe('projection engine', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  let store: EventStore;
  let cured = false;
  const projection = testProjection({ isCured: () => cured });
  const schema = liveSchemaOf(projection.name);
  const batches: BatchInfo[] = [];
  const published: ProjectionChange[] = [];
  let sinkDown = false;
  const sink = {
    publish: (changes: readonly ProjectionChange[]) => {
      if (sinkDown) return Promise.reject(new Error('sink down'));
      published.push(...changes);
      return Promise.resolve();
    },
  };
  let engine: Projections;

  beforeAll(async () => {
    database = await createTestDatabase('projection_engine');
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    store = await openEventStore(handle);
  });
  afterAll(async () => {
    await engine?.stop();
    await store.close();
    await handle.close();
    await database.drop();
  });

  it('catches up in large batches, then applies live events in small ones, rows and checkpoint together', async () => {
    const head = await appendCounted(store, 'catch', 20_000, 20, 500);
    engine = await startProjections({ handle, store, projections: [projection], sink, logger: quiet, tuning: fast, onBatch: (b) => batches.push(b) });
    await engine.waitFor(projection.name, head, { timeoutMs: 60_000 });
    const catchUp = batches.filter((b) => b.events > 0);
    expect(Math.max(...catchUp.map((b) => b.events))).toBeGreaterThanOrEqual(1_000);
    expect(catchUp.reduce((n, b) => n + b.events, 0)).toBe(20_000);

    batches.length = 0;
    let last = head;
    for (let i = 0; i < 5; i++) {
      last = (await store.append(`live-${i}`, [counted(1)])).position;
      await engine.waitFor(projection.name, last, { timeoutMs: 15_000 });
    }
    const live = batches.filter((b) => b.events > 0);
    expect(live.map((b) => b.events)).toEqual([1, 1, 1, 1, 1]);
    expect(live.every((b) => b.live)).toBe(true);

    expect(await snapshot(handle.db, schema)).toEqual(await expectedSnapshot(store, last));
    const control = await readControl(handle.db, projection.name);
    expect(control?.position).toBeGreaterThanOrEqual(last);
    // Changes are announced after commit, stamped with the batch's last position.
    expect(published.filter((c) => c.topic === 'stream:live-4')).toEqual([{ topic: 'stream:live-4', position: last, payload: { streamId: 'live-4' } }]);
    expect(new Set(published.map((c) => c.topic)).size).toBe(25);
  });

  it('a failing change sink never fails or repeats a batch', async () => {
    sinkDown = true;
    const count = published.length;
    const last = (await store.append('sink-down', [counted(5)])).position;
    await engine.waitFor(projection.name, last, { timeoutMs: 15_000 });
    sinkDown = false;
    const after = (await store.append('sink-down', [counted(6)])).position;
    await engine.waitFor(projection.name, after, { timeoutMs: 15_000 });
    const rows = (await snapshot(handle.db, schema)).streams.filter((s) => s.stream_id === 'sink-down');
    expect(rows).toEqual([{ stream_id: 'sink-down', events: 2, total: '11' }]);
    expect(published.slice(count).map((c) => c.position)).toEqual([after]);
  });

  it('parks a failing event after retries; its key waits, other keys go on; retry and skip release them', async () => {
    const a = (await store.append('park-a', [counted(1)])).position;
    await store.append('park-a', [poisoned()]);
    await store.append('park-b', [counted(2)]);
    await store.append('park-a', [counted(3)]);
    const lastB = (await store.append('park-b', [counted(4)])).position;
    await engine.waitFor(projection.name, lastB, { timeoutMs: 15_000 });
    expect(a).toBeLessThan(lastB);

    const rows = async () => (await snapshot(handle.db, schema)).streams.filter((s) => s.stream_id.startsWith('park-'));
    expect(await rows()).toEqual([
      { stream_id: 'park-a', events: 1, total: '1' },
      { stream_id: 'park-b', events: 2, total: '6' },
    ]);
    const generation = (await readControl(handle.db, projection.name))?.generation ?? 0;
    const parked = await listParked(handle.db, projection.name, generation);
    expect(parked.map((p) => [p.status, p.event.type, p.key])).toEqual([
      ['parked', POISONED, 'park-a'],
      ['blocked', 'Counted', 'park-a'],
    ]);
    expect(parked[0]?.attempts).toBe(4);
    expect(parked[0]?.error).toContain('poisoned event');

    // Later events of the parked key wait too; the other key goes on.
    await store.append('park-a', [counted(5)]);
    const b3 = (await store.append('park-b', [counted(6)])).position;
    await engine.waitFor(projection.name, b3, { timeoutMs: 15_000 });
    expect((await rows()).find((s) => s.stream_id === 'park-a')?.events).toBe(1);
    expect((await rows()).find((s) => s.stream_id === 'park-b')?.events).toBe(3);
    const root = (await listParked(handle.db, projection.name, generation))[0];
    if (!root) throw new Error('no parked event');

    const failed = await retryParked(handle, projection, { id: root.id });
    expect(failed).toMatchObject([{ outcome: 'failed', stillBlocked: 2 }]);

    cured = true;
    const retried = await retryParked(handle, projection, { all: true });
    expect(retried).toMatchObject([{ outcome: 'applied', released: 2, stillBlocked: 0 }]);
    expect(await listParked(handle.db, projection.name, generation)).toEqual([]);
    // After the retry the runner applies the key's new events directly.
    const a5 = (await store.append('park-a', [counted(7)])).position;
    await engine.waitFor(projection.name, a5, { timeoutMs: 15_000 });
    expect((await rows()).find((s) => s.stream_id === 'park-a')).toEqual({ stream_id: 'park-a', events: 5, total: String(1 + 1000 + 3 + 5 + 7) });

    cured = false;
    await store.append('park-c', [poisoned()]);
    const c2 = (await store.append('park-c', [counted(9)])).position;
    await engine.waitFor(projection.name, c2, { timeoutMs: 15_000 });
    expect((await rows()).find((s) => s.stream_id === 'park-c')).toBeUndefined();
    const skipped = await skipParked(handle, projection, { all: true });
    expect(skipped).toMatchObject([{ outcome: 'skipped', released: 1 }]);
    expect((await rows()).find((s) => s.stream_id === 'park-c')).toEqual({ stream_id: 'park-c', events: 1, total: '9' });
    const all = await listParked(handle.db, projection.name, generation, true);
    expect(all.map((p) => p.status)).toEqual(['skipped']);
  });

  it('waitFor times out naming the lagging projection; status reports lag while paused', async () => {
    expect(await setState(handle.db, projection.name, 'paused')).toBe(true);
    const before = (await engine.status())[0];
    await store.append('lag-1', [counted(1)]);
    await store.append('lag-1', [counted(1)]);
    const last = (await store.append('lag-2', [counted(1)])).position;
    const error = await engine.waitFor(projection.name, last, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(isKeelError(error) && error.code).toBe('KEEL_ERR_PROJECTION_LAG_TIMEOUT');
    expect(error instanceof Error && error.message).toContain(projection.name);
    const [paused] = await engine.status();
    expect(paused).toMatchObject({ name: projection.name, state: 'paused', lagEvents: 3, lagEventsCapped: false, active: true });
    expect(paused?.lagSeconds).toBeGreaterThan(0);
    expect(paused?.position).toBe(before?.position);

    await setState(handle.db, projection.name, 'running');
    await engine.waitFor(projection.name, last, { timeoutMs: 15_000 });
    const [running] = await engine.status();
    expect(running).toMatchObject({ state: 'running', lagEvents: 0, lagSeconds: 0 });
  });

  it('runs each projection in one process only; another handle stands by and takes over on stop', async () => {
    const other = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    const otherStore = await openEventStore(other);
    const standby = await startProjections({ handle: other, store: otherStore, projections: [projection], logger: quiet, tuning: fast });
    try {
      const first = (await store.append('lead-1', [counted(1)])).position;
      await engine.waitFor(projection.name, first, { timeoutMs: 15_000 });
      expect(engine.leading()).toEqual([projection.name]);
      expect(standby.leading()).toEqual([]);
      await engine.stop();
      const second = (await store.append('lead-1', [counted(1)])).position;
      await standby.waitFor(projection.name, second, { timeoutMs: 15_000 });
      expect(standby.leading()).toEqual([projection.name]);
      const { rows } = await sql<{ events: number }>`select events from ${sql.id(schema, 'stream_counts')} where stream_id = 'lead-1'`.execute(handle.db);
      expect(rows).toEqual([{ events: 2 }]);
    } finally {
      await standby.stop();
      await otherStore.close();
      await other.close();
    }
  });
  it('a runner whose checkpoint moved underneath it (it lost its lease without noticing) applies nothing', async () => {
    const row = await readControl(handle.db, projection.name);
    if (!row) throw new Error('no control row');
    const [event] = await collect(store.readAll({ filter: { eventTypes: projection.eventTypes }, maxCount: 1 }));
    if (!event) throw new Error('no event');
    const before = await snapshot(handle.db, schema);
    const deps = { handle, projection, logger: quiet, tuning: DEFAULT_TUNING };
    const stale = { position: row.position - 1n, generation: row.generation, parkedVersion: row.parkedVersion, blocked: new Map<string, string>() };
    const outcome = await commitLiveBatch(deps, { events: [event], position: row.position + 1n, live: true }, stale, new AbortController().signal);
    expect(outcome.kind).toBe('moved');
    expect(await snapshot(handle.db, schema)).toEqual(before);
    expect((await readControl(handle.db, projection.name))?.position).toBe(row.position);
  });
});
