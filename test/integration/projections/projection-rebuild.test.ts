/**
 * Blue/green rebuilds on real PostgreSQL: the next generation is built while the live one serves
 * and keeps moving, verified, and swapped in one transaction; reads running all along never fail;
 * a build that does not match is refused loudly; old generations are kept until --drop-old; a new
 * code version takes over from the old runner after the swap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openEventStore } from '../../../src/eventstore/open.js';
import type { EventStore } from '../../../src/eventstore/port.js';
import { openDatabase, type DatabaseHandle } from '../../../src/platform/database.js';
import { isKeelError } from '../../../src/platform/errors.js';
import { readControl, rebuildProjection, startProjections, type Projections, type RebuildProgress } from '../../../src/projections/engine/index.js';
import { liveSchemaOf } from '../../../src/projections/projection.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { appendCounted, counted, expectedSnapshot, snapshot, testProjection } from '../../support/projection-test-model.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const fast = { retryBaseMs: 5, standbyRetryMs: 200, idlePollMs: 100 };
const schemasOf = async (db: DatabaseHandle['db']) =>
  (await sql<{ nspname: string }>`select nspname from pg_namespace where nspname like 'rm\\_%' order by nspname`.execute(db)).rows.map((r) => r.nspname);

describe('blue/green rebuild', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  let store: EventStore;
  const projection = testProjection();
  const schema = liveSchemaOf(projection.name);
  let engine: Projections;

  beforeAll(async () => {
    database = await createTestDatabase('projection_rebuild');
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    store = await openEventStore(handle);
    const head = await appendCounted(store, 'seed', 10_000, 25, 250);
    engine = await startProjections({ handle, store, projections: [projection], logger: quiet, tuning: fast });
    await engine.waitFor(projection.name, head, { timeoutMs: 60_000 });
  });
  afterAll(async () => {
    await engine.stop();
    await store.close();
    await handle.close();
    await database.drop();
  });

  it('swaps in a rebuilt generation while writes flow and reads never fail', async () => {
    let writing = true;
    let reads = 0;
    const readErrors: unknown[] = [];
    const writer = (async () => {
      let i = 0;
      while (writing) await store.append(`flow-${i++ % 7}`, [counted(i % 5), counted(1)]);
    })();
    const readers = Array.from({ length: 3 }, async () => {
      while (writing) {
        try {
          await sql`select count(*) from ${sql.id(schema, 'stream_counts')}`.execute(handle.db);
          await sql`select events, total from ${sql.id(schema, 'totals')} where id = 1`.execute(handle.db);
          reads += 1;
        } catch (error) {
          readErrors.push(error);
        }
      }
    });
    const progress: RebuildProgress[] = [];
    const result = await rebuildProjection({ handle, store, projection, onProgress: (p) => progress.push(p), maxBatch: 1_000 });
    // Keep writing and reading across the live runner's switch to the new tables.
    const after = (await store.append('flow-after', [counted(3)])).position;
    await engine.waitFor(projection.name, after, { timeoutMs: 30_000 });
    writing = false;
    await Promise.all([writer, ...readers]);

    expect(readErrors).toEqual([]);
    expect(reads).toBeGreaterThan(10);
    expect(result).toMatchObject({ name: projection.name, generation: 2, oldSchema: `${schema}__old_g1`, dropped: [] });
    expect(result.events).toBeGreaterThanOrEqual(10_000);
    expect(result.tables.every((t) => t.ok && t.live === t.build)).toBe(true);
    expect(progress.map((p) => p.kind)).toEqual(expect.arrayContaining(['started', 'progress', 'swapping', 'swapped']));
    expect((await readControl(handle.db, projection.name))?.generation).toBe(2);
    expect(await schemasOf(handle.db)).toEqual([schema, `${schema}__old_g1`]);

    const last = (await store.append('flow-final', [counted(2)])).position;
    await engine.waitFor(projection.name, last, { timeoutMs: 15_000 });
    expect(await snapshot(handle.db, schema)).toEqual(await expectedSnapshot(store, last));
  });

  it('refuses to swap a build whose row counts differ from the live tables, unless told to', async () => {
    // The live model drifted: a row is lost (as if someone deleted it by hand).
    await sql`delete from ${sql.id(schema, 'stream_counts')} where stream_id = 'seed-3'`.execute(handle.db);
    const error = await rebuildProjection({ handle, store, projection }).catch((e: unknown) => e);
    expect(isKeelError(error) && error.code).toBe('KEEL_ERR_PROJECTION_VERIFY_FAILED');
    expect(error instanceof Error && error.message).toMatch(/NOT replaced.*stream_counts: \d+ rows built, \d+ live/);
    expect((await readControl(handle.db, projection.name))?.generation).toBe(2);
    expect((await readControl(handle.db, projection.name))?.rebuildGeneration).toBeNull();

    const repaired = await rebuildProjection({ handle, store, projection, acceptCountMismatch: true });
    expect(repaired.generation).toBe(3);
    const last = (await store.append('flow-final', [counted(1)])).position;
    await engine.waitFor(projection.name, last, { timeoutMs: 15_000 });
    expect(await snapshot(handle.db, schema)).toEqual(await expectedSnapshot(store, last));
  });

  it('with no projector running, a rebuild holds the projection and builds to the head', async () => {
    const idle = testProjection({ name: 'test_idle' });
    const head = await store.headPosition();
    const result = await rebuildProjection({ handle, store, projection: idle });
    expect(result).toMatchObject({ name: 'test_idle', generation: 2, countsCompared: false });
    expect(result.position).toBeGreaterThanOrEqual(head);
    expect(result.tables.map((t) => [t.table, t.live])).toEqual([['stream_counts', 0], ['totals', 0]]);
    expect((await readControl(handle.db, 'test_idle'))?.position).toBe(result.position);
    expect(await snapshot(handle.db, liveSchemaOf('test_idle'))).toEqual(await expectedSnapshot(store, result.position));
  });

  it('a new code version takes over from the old runner after the swap; --drop-old drops kept generations', async () => {
    const v2 = testProjection({ version: 2 });
    const other = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    const otherStore = await openEventStore(other);
    const newer = await startProjections({ handle: other, store: otherStore, projections: [v2], logger: quiet, tuning: fast });
    try {
      expect(newer.leading()).toEqual([]);
      const result = await rebuildProjection({ handle: other, store: otherStore, projection: v2, dropOld: true });
      expect(result).toMatchObject({ generation: 4, version: 2 });
      expect(result.dropped).toEqual([`${schema}__old_g1`, `${schema}__old_g2`, `${schema}__old_g3`]);
      expect((await schemasOf(handle.db)).filter((n) => n.startsWith(schema))).toEqual([schema]);
      const last = (await store.append('v2', [counted(4)])).position;
      await newer.waitFor(v2.name, last, { timeoutMs: 30_000 });
      expect(newer.leading()).toEqual([v2.name]);
      expect(engine.leading()).toEqual([]);
      expect(await snapshot(handle.db, schema)).toEqual(await expectedSnapshot(store, last));
      const [status] = await newer.status();
      expect(status).toMatchObject({ version: 2, codeVersion: 2, generation: 4, state: 'running' });
    } finally {
      await newer.stop();
      await otherStore.close();
      await other.close();
    }
  });
  it('a runner whose code is newer than the tables applies nothing, status says needs-rebuild, a rebuild fixes it', async () => {
    const v3 = testProjection({ version: 3 });
    const newest = await startProjections({ handle, store, projections: [v3], logger: quiet, tuning: fast });
    try {
      const before = (await readControl(handle.db, v3.name))?.position;
      const last = (await store.append('v3', [counted(1)])).position;
      const error = await newest.waitFor(v3.name, last, { timeoutMs: 1_000 }).catch((e: unknown) => e);
      expect(isKeelError(error) && error.code).toBe('KEEL_ERR_PROJECTION_LAG_TIMEOUT');
      expect((await readControl(handle.db, v3.name))?.position).toBe(before);
      const [status] = await newest.status();
      expect(status).toMatchObject({ state: 'needs-rebuild', version: 2, codeVersion: 3 });

      const result = await rebuildProjection({ handle, store, projection: v3 });
      expect(result.version).toBe(3);
      await newest.waitFor(v3.name, last, { timeoutMs: 15_000 });
      const checkpoint = (await readControl(handle.db, v3.name))?.position ?? -1n;
      expect(await snapshot(handle.db, schema)).toEqual(await expectedSnapshot(store, checkpoint));
    } finally {
      await newest.stop();
    }
  });
});
