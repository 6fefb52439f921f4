/**
 * A real projector process (test/support/projector-process.ts: the engine with the test
 * projection) is SIGKILLed at random moments, at least 20 times, while events keep flowing, and
 * restarted each time. In the end its read model must equal a from-scratch build of the same
 * events: a kill at any point neither lost nor doubled a batch (rows and checkpoint commit together).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEventStore } from '../../../src/eventstore/open.js';
import type { EventStore } from '../../../src/eventstore/port.js';
import { openDatabase, type DatabaseHandle } from '../../../src/platform/database.js';
import { readControl, watchProjections } from '../../../src/projections/engine/index.js';
import { liveSchemaOf } from '../../../src/projections/projection.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { appendCounted, buildFromScratch, counted, expectedSnapshot, snapshot, testProjection } from '../../support/projection-test-model.js';
import { isLeading, spawnProjector } from '../../support/projector-spawn.js';

const KILLS = 21;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('projector survives SIGKILL', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  let store: EventStore;
  const projection = testProjection();

  beforeAll(async () => {
    database = await createTestDatabase('projector_crash');
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    store = await openEventStore(handle);
    await appendCounted(store, 'seed', 5_000, 20, 250);
  });
  afterAll(async () => {
    await store.close();
    await handle.close();
    await database.drop();
  });

  // About 35 s alone; each round spawns a Node process, which takes longer on a loaded machine.
  it(`after ${KILLS} kills at random points, the read model equals a from-scratch build`, { timeout: 180_000 }, async () => {
    let writing = true;
    let appended = 0;
    let lastAppended = -1n;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const size = 1 + (i % 40);
        lastAppended = (await store.append(`flow-${i % 30}`, Array.from({ length: size }, (_, j) => counted((i + j) % 11)))).position;
        appended += size;
        await sleep(2);
      }
    })();

    let killedBehind = 0;
    const positions: bigint[] = [];
    try {
      for (let round = 0; round < KILLS; round++) {
        const projector = spawnProjector(database.url);
        await projector.waitForLog(isLeading, 30_000);
        await sleep(Math.floor(Math.random() * 400));
        projector.child.kill('SIGKILL');
        expect((await projector.exited()).signal).toBe('SIGKILL');
        const position = (await readControl(handle.db, projection.name))?.position ?? -1n;
        if (position < (await store.headPosition())) killedBehind += 1;
        positions.push(position);
      }
    } finally {
      writing = false;
      await writer;
    }
    expect(appended).toBeGreaterThan(0);
    // The kills hit a projector with work to do, and it made progress between them.
    expect(killedBehind).toBeGreaterThan(0);
    expect(positions.at(-1)).toBeGreaterThan(positions[0] ?? -1n);

    const projector = spawnProjector(database.url);
    const watch = await watchProjections(handle);
    try {
      await watch.waitFor(projection.name, lastAppended, { timeoutMs: 60_000 });
    } finally {
      await watch.close();
      projector.child.kill('SIGTERM');
      expect((await projector.exited()).code).toBe(0);
    }
    // Compared at the projector's own checkpoint: the horizon is cluster-wide, so "the head" can
    // lag behind what the projector has already read.
    const checkpoint = (await readControl(handle.db, projection.name))?.position ?? -1n;
    expect(checkpoint).toBeGreaterThanOrEqual(lastAppended);
    const live = await snapshot(handle.db, liveSchemaOf(projection.name));
    await buildFromScratch(handle.db, store, projection, 'scratch_build', checkpoint);
    expect(live).toEqual(await snapshot(handle.db, 'scratch_build'));
    expect(live).toEqual(await expectedSnapshot(store, checkpoint));
  });
});
