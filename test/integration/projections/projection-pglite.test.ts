/**
 * The engine on embedded PGlite (one session, one process): leaders are elected in-process, and a
 * blue/green rebuild works beside a running projector in the same process (the last stretch is
 * read outside the swap transaction, since PGlite's one connection cannot serve a read inside it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuildProjection, startProjections, type Projections } from '../../../src/projections/engine/index.js';
import { liveSchemaOf } from '../../../src/projections/projection.js';
import { appendCounted, counted, expectedSnapshot, snapshot, testProjection } from '../../support/projection-test-model.js';
import { openWriteSide, type WriteSide } from '../../support/write-side.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const fast = { retryBaseMs: 5, standbyRetryMs: 100, idlePollMs: 100 };

describe('projection engine on PGlite', () => {
  let side: WriteSide;
  const projection = testProjection();
  const engines: Projections[] = [];

  beforeAll(async () => {
    side = await openWriteSide('projection_pglite', 'pglite');
  });
  afterAll(async () => {
    for (const engine of engines) await engine.stop();
    await side.close();
  });

  it('elects one runner in-process, projects, and rebuilds beside it', async () => {
    const { handle, store } = side;
    const head = await appendCounted(store, 'lite', 2_000, 8, 200);
    const first = await startProjections({ handle, store, projections: [projection], logger: quiet, tuning: fast });
    const second = await startProjections({ handle, store, projections: [projection], logger: quiet, tuning: fast });
    engines.push(first, second);
    await first.waitFor(projection.name, head, { timeoutMs: 30_000 });
    expect([...first.leading(), ...second.leading()]).toEqual([projection.name]);

    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) await store.append(`lite-w${i % 3}`, [counted(i % 5)]);
    })();
    const result = await rebuildProjection({ handle, store, projection });
    writing = false;
    await writer;
    expect(result.generation).toBe(2);
    const last = (await store.append('lite-end', [counted(1)])).position;
    await first.waitFor(projection.name, last, { timeoutMs: 30_000 });
    expect(await snapshot(handle.db, liveSchemaOf(projection.name))).toEqual(await expectedSnapshot(store, last));
  });
});
