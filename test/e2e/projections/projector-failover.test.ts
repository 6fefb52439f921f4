/**
 * Two real projector processes run the same projection: one leads (PostgreSQL advisory lock on a
 * dedicated connection), the other stands by. SIGKILL the leader while events flow: the standby
 * takes over within seconds (15 s bound here) and the read model still equals the events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEventStore } from '../../../src/eventstore/open.js';
import type { EventStore } from '../../../src/eventstore/port.js';
import { openDatabase, type DatabaseHandle } from '../../../src/platform/database.js';
import { readControl, watchProjections } from '../../../src/projections/engine/index.js';
import { liveSchemaOf } from '../../../src/projections/projection.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { counted, expectedSnapshot, snapshot, testProjection } from '../../support/projection-test-model.js';
import { isLeading, spawnProjector, type SpawnedProjector } from '../../support/projector-spawn.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('projector failover', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  let store: EventStore;
  const projection = testProjection();
  const running: SpawnedProjector[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('projector_failover');
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    store = await openEventStore(handle);
  });
  afterAll(async () => {
    for (const p of running) p.child.kill('SIGKILL');
    await store.close();
    await handle.close();
    await database.drop();
  });

  it('the standby takes over when the leader is killed', async () => {
    let writing = true;
    let lastAppended = -1n;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        lastAppended = (await store.append(`fail-${i % 9}`, [counted(i % 4), counted(1)])).position;
        await sleep(5);
      }
    })();
    const first = spawnProjector(database.url);
    running.push(first);
    await first.waitForLog(isLeading);
    const second = spawnProjector(database.url);
    running.push(second);
    await second.waitForLog((entry) => entry.ready === true);
    // Standing by: it keeps trying (every 250 ms here) without taking over while the leader lives.
    await sleep(1_500);
    expect(second.output()).not.toContain('is now its active runner');

    first.child.kill('SIGKILL');
    await first.exited();
    const killedAt = Date.now();
    await second.waitForLog(isLeading, 15_000);
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(15_000);

    await sleep(500);
    writing = false;
    await writer;
    const watch = await watchProjections(handle);
    try {
      await watch.waitFor(projection.name, lastAppended, { timeoutMs: 30_000 });
    } finally {
      await watch.close();
    }
    second.child.kill('SIGTERM');
    expect((await second.exited()).code).toBe(0);
    // At the projector's own checkpoint (the cluster-wide horizon can lag behind it).
    const checkpoint = (await readControl(handle.db, projection.name))?.position ?? -1n;
    expect(await snapshot(handle.db, liveSchemaOf(projection.name))).toEqual(await expectedSnapshot(store, checkpoint));
  });
});
