/**
 * The whole read path: commerce commands append, the projector engine runs the four read models
 * with the cache's change sink (Redis), and a reader holding the write's position as consistency
 * token gets the new state, from the cache entry the sink wrote after commit, while subscribers
 * hear the order's status change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuildProjection, startProjections, type Projections } from '../../../src/projections/engine/index.js';
import { createCacheChangeSink } from '../../../src/projections/cache/change-sink.js';
import { readAvailabilityCached, readProductCached } from '../../../src/projections/cache/cached-readers.js';
import { createReadCache } from '../../../src/projections/cache/create-read-cache.js';
import type { ReadCache } from '../../../src/projections/cache/read-cache.js';
import { getOrder } from '../../../src/projections/read-models/orders/index.js';
import { getFlashSaleBoard } from '../../../src/projections/read-models/flash-sale/index.js';
import { readModels } from '../../../src/projections/read-models/index.js';
import { liveSchemaOf } from '../../../src/projections/projection.js';
import { redisTestPrefix, redisTestUrl } from '../../support/database.js';
import { rowsOf } from '../../support/projection-spec.js';
import { collectNotices, recordingLogger } from '../../support/read-model-cache.js';
import { at, commandsOn, openWriteSide, type WriteSide } from '../../support/write-side.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const names = readModels.map((p) => p.name);

describe('read models run by the projector engine, announced through the Redis cache', () => {
  let side: WriteSide;
  let cache: ReadCache;
  let engine: Projections;

  beforeAll(async () => {
    side = await openWriteSide('rm_engine');
    cache = await createReadCache({ redisUrl: redisTestUrl(), keyPrefix: redisTestPrefix('read-models-engine'), logger: recordingLogger() });
    engine = await startProjections({
      handle: side.handle,
      store: side.store,
      projections: readModels,
      sink: createCacheChangeSink(cache),
      logger: quiet,
      tuning: { retryBaseMs: 5, standbyRetryMs: 200, idlePollMs: 100 },
    });
  });
  afterAll(async () => {
    await engine.stop();
    await cache.close();
    await side.close();
  });

  it('a write is readable at its position; the sink caches the new state stamped at or after it', async () => {
    const { commerce } = commandsOn(side.store);
    const now = at();
    await commerce.listProduct({ productId: 'p1', sku: 'SKU-1', name: 'Lamp', price: 4200, currency: 'EUR' }, now);
    const { position } = await commerce.receiveStock({ sku: 'SKU-1', quantity: 7 }, now);
    await engine.waitFor(names, position, { timeoutMs: 30_000 });
    // The sink runs after commit, not awaited by the engine: wait for its entry.
    const deadline = Date.now() + 10_000;
    while (((await cache.get('availability:SKU-1'))?.position ?? -1n) < position && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const entry = await cache.get('availability:SKU-1');
    expect(entry?.payload).toMatchObject({ sku: 'SKU-1', available: 7 });
    expect((entry?.position ?? -1n) >= position).toBe(true);
    expect(await readAvailabilityCached(side.handle.db, cache, 'SKU-1', { minPosition: position })).toMatchObject({ available: 7 });
    expect(await readProductCached(side.handle.db, cache, 'p1', { minPosition: position })).toMatchObject({ name: 'Lamp', available: 7 });
  });

  it('subscribers hear an order change status; the projections agree on the stock', async () => {
    const orders = await collectNotices(cache, 'order:*');
    const { commerce } = commandsOn(side.store);
    const now = at();
    await commerce.placeOrder({ orderId: 'o1', customerId: 'c1', currency: 'EUR', lines: [{ sku: 'SKU-1', quantity: 2, unitPrice: 4200 }] }, now);
    await commerce.reserveStock({ sku: 'SKU-1', orderId: 'o1', quantity: 2, expiresAt: '2026-11-23T11:00:00.000Z' }, now);
    const { position } = await commerce.cancelOrder({ orderId: 'o1', reason: 'changed my mind' }, now);
    await engine.waitFor(names, position, { timeoutMs: 30_000 });
    await orders.until('order:o1');
    const deadline = Date.now() + 10_000;
    while (!orders.seen.some((n) => n.payload.status === 'cancelled') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(orders.seen.map((n) => n.payload.status)).toContain('cancelled');
    expect(orders.seen.at(-1)?.payload).toMatchObject({ orderId: 'o1', status: 'cancelled', statusChanged: true });
    expect(await getOrder(side.handle.db, 'o1')).toMatchObject({ status: 'cancelled', lines: [{ stockStatus: 'reserved' }] });
    expect(await getFlashSaleBoard(side.handle.db, { sku: 'SKU-1' })).toMatchObject([{ reserved: 2, unitsLeft: 5 }]);
    await orders.unsubscribe();
  });

  it('a blue/green rebuild of each read model, while the live one runs, swaps in the same rows', async () => {
    for (const projection of readModels) {
      const before = await rowsOf(side.handle.db, projection, liveSchemaOf(projection.name));
      const result = await rebuildProjection({ handle: side.handle, store: side.store, projection, dropOld: true });
      expect(result.parked).toBe(0);
      expect(await rowsOf(side.handle.db, projection, liveSchemaOf(projection.name))).toEqual(before);
    }
  });
});
