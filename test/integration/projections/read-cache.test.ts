import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../../src/platform/database.js';
import { openDatabase } from '../../../src/platform/database.js';
import { createCacheChangeSink } from '../../../src/projections/cache/change-sink.js';
import { readAvailabilityCached, readProductCached } from '../../../src/projections/cache/cached-readers.js';
import { createReadCache } from '../../../src/projections/cache/create-read-cache.js';
import type { ReadCache } from '../../../src/projections/cache/read-cache.js';
import { catalogProjection } from '../../../src/projections/read-models/catalog/index.js';
import { ordersProjection } from '../../../src/projections/read-models/orders/index.js';
import { createTestDatabase, redisTestPrefix, redisTestUrl, type TestDatabase } from '../../support/database.js';
import { applyBatches, resetSchema } from '../../support/projection-spec.js';
import { liveSchemaOf } from '../../../src/projections/projection.js';
import { collectNotices, recordingLogger } from '../../support/read-model-cache.js';
import { history, historyFrom, listed, placed, priceChanged, received, tracked } from '../../support/read-model-events.js';

const entry = (position: bigint, value: string) => ({ position, payload: { value } });

type Open = (prefix: string) => Promise<ReadCache>;

const implementations: readonly [string, Open][] = [
  ['Redis', (prefix) => createReadCache({ redisUrl: redisTestUrl(), keyPrefix: prefix, logger: recordingLogger() })],
  ['in-process', (prefix) => createReadCache({ keyPrefix: prefix, logger: recordingLogger() })],
];

describe.each(implementations)('read cache (%s)', (kind, open) => {
  const prefix = redisTestPrefix(`read-cache-${kind === 'Redis' ? 'redis' : 'memory'}`);
  let cache: ReadCache;
  let database: TestDatabase;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    cache = await open(prefix);
    database = await createTestDatabase(`read_cache_${cache.kind}`);
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
  });
  afterAll(async () => {
    await cache.close();
    await handle.close();
    await database.drop();
  });

  it('is the implementation the configuration asks for', () => {
    expect(cache.kind).toBe(kind === 'Redis' ? 'redis' : 'memory');
  });

  it('stores an entry with its stamp and deletes it', async () => {
    expect(await cache.get('k:store')).toBeUndefined();
    expect(await cache.set('k:store', entry(100n, 'a'))).toBe(true);
    expect(await cache.get('k:store')).toEqual(entry(100n, 'a'));
    await cache.delete('k:store');
    expect(await cache.get('k:store')).toBeUndefined();
  });

  it('stamps never go backwards: an older write loses, an equal or newer one wins', async () => {
    expect(await cache.set('k:stamps', entry(200n, 'new'))).toBe(true);
    expect(await cache.set('k:stamps', entry(100n, 'old'))).toBe(false);
    expect(await cache.get('k:stamps')).toEqual(entry(200n, 'new'));
    expect(await cache.set('k:stamps', entry(200n, 'same'))).toBe(true);
    expect(await cache.set('k:stamps', entry(300n, 'newer'))).toBe(true);
    expect(await cache.get('k:stamps')).toEqual(entry(300n, 'newer'));
  });

  it('keeps payloads as JSON: readers get copies, a payload that is not JSON is refused', async () => {
    const payload = { nested: { n: 1 } };
    await cache.set('k:json', { position: 1n, payload });
    payload.nested.n = 2;
    expect(await cache.get('k:json')).toEqual({ position: 1n, payload: { nested: { n: 1 } } });
    await expect(cache.set('k:json', { position: 2n, payload: { n: 1n } })).rejects.toThrow(TypeError);
    await expect(cache.publish({ topic: 'x', position: 2n, payload: { n: 1n } })).rejects.toThrow(TypeError);
  });

  it('compares positions exactly beyond 2^53 and across lengths', async () => {
    const big = 2n ** 60n;
    expect(await cache.set('k:big', entry(big + 2n, 'a'))).toBe(true);
    expect(await cache.set('k:big', entry(big + 1n, 'b'))).toBe(false);
    expect(await cache.set('k:big', entry(99n, 'c'))).toBe(false);
    expect(await cache.set('k:big', entry(10n ** 19n, 'd'))).toBe(true);
    expect(await cache.get('k:big')).toEqual(entry(10n ** 19n, 'd'));
  });

  it('delivers notices by exact topic and by pattern, and nothing else', async () => {
    const orders = await collectNotices(cache, 'order:*');
    const one = await collectNotices(cache, 'availability:SKU-1');
    await cache.publish({ topic: 'availability:SKU-2', position: 1n, payload: { n: 1 } });
    await cache.publish({ topic: 'order:o1', position: 2n, payload: { status: 'pending' } });
    await cache.publish({ topic: 'availability:SKU-1', position: 3n, payload: { available: 4 } });
    await Promise.all([orders.until('order:o1'), one.until('availability:SKU-1')]);
    expect(orders.seen).toEqual([{ topic: 'order:o1', position: 2n, payload: { status: 'pending' } }]);
    expect(one.seen).toEqual([{ topic: 'availability:SKU-1', position: 3n, payload: { available: 4 } }]);
    await orders.unsubscribe();
    await cache.publish({ topic: 'order:o2', position: 4n, payload: {} });
    await cache.publish({ topic: 'availability:SKU-1', position: 5n, payload: {} });
    await one.until('availability:SKU-1');
    expect(orders.seen.map((n) => n.topic)).toEqual(['order:o1']);
    await one.unsubscribe();
  });

  it('two caches with different prefixes share neither entries nor notices', async () => {
    const other = await open(redisTestPrefix('read-cache-other'));
    try {
      const mine = await collectNotices(cache, '*');
      const theirs = await collectNotices(other, '*');
      await cache.set('k:shared', entry(1n, 'mine'));
      expect(await other.get('k:shared')).toBeUndefined();
      await cache.publish({ topic: 'order:mine', position: 1n, payload: {} });
      await other.publish({ topic: 'order:theirs', position: 1n, payload: {} });
      await Promise.all([mine.until('order:mine'), theirs.until('order:theirs')]);
      // Each side published after the other's publish returned: a cross-delivery would have come first.
      await cache.publish({ topic: 'order:mine-2', position: 2n, payload: {} });
      await mine.until('order:mine-2');
      expect(mine.seen.map((n) => n.topic)).toEqual(['order:mine', 'order:mine-2']);
      expect(theirs.seen.map((n) => n.topic)).toEqual(['order:theirs']);
      await mine.unsubscribe();
      await theirs.unsubscribe();
    } finally {
      await other.close();
    }
  });

  describe('with the catalog and the change sink', () => {
    const story = history(listed('p1', 'SKU-1', 'Mug', 1200), tracked('SKU-1', 'p1'), received('SKU-1', 10));

    beforeAll(async () => {
      await resetSchema(handle.db, catalogProjection, liveSchemaOf('catalog'));
      await resetSchema(handle.db, ordersProjection, liveSchemaOf('orders'));
    });

    it('after commit, the sink caches hot topics stamped with the position and publishes every change', async () => {
      const sink = createCacheChangeSink(cache);
      const notices = await collectNotices(cache, '*');
      const changes = [
        ...(await applyBatches(handle.db, catalogProjection, story)),
        ...(await applyBatches(handle.db, ordersProjection, historyFrom(400n, placed('o1', 'c1', [{ sku: 'SKU-1', quantity: 1, unitPrice: 1200 }])))),
      ];
      await sink.publish(changes);
      await notices.until('order:o1');
      expect(notices.seen.map((n) => [n.topic, n.position])).toEqual([
        ['product:p1', 300n],
        ['availability:SKU-1', 300n],
        ['order:o1', 400n],
      ]);
      expect(await cache.get('product:p1')).toMatchObject({ position: 300n, payload: { productId: 'p1', available: 10 } });
      expect(await cache.get('availability:SKU-1')).toMatchObject({ position: 300n, payload: { available: 10 } });
      expect(await cache.get('order:o1')).toBeUndefined();
      await notices.unsubscribe();
    });

    it('serves an entry that is new enough, bypasses one older than the consistency token', async () => {
      // The sink cached p1 at 300 (previous test). A price change commits at 500, its notice not yet out.
      await applyBatches(handle.db, catalogProjection, historyFrom(500n, priceChanged('p1', 999, 1200)));
      expect(await readProductCached(handle.db, cache, 'p1')).toMatchObject({ price: 1200, updatedPosition: 300n });
      expect(await readProductCached(handle.db, cache, 'p1', { minPosition: 300n })).toMatchObject({ price: 1200 });
      expect(await readProductCached(handle.db, cache, 'p1', { minPosition: 500n })).toMatchObject({ price: 999, updatedPosition: 500n });
      // The read filled the cache with the newer state, stamped with the row's position.
      expect(await cache.get('product:p1')).toMatchObject({ position: 500n, payload: { price: 999 } });
      expect(await readProductCached(handle.db, cache, 'p1', { minPosition: 500n })).toMatchObject({ price: 999 });
    });

    it('a reader that waited for the projection stamps its fill with that position, so the next one hits the cache', async () => {
      // p1 last changed at 500; the projection has since committed 700 (other rows), and the reader waited for it.
      await cache.delete('product:p1');
      expect(await readProductCached(handle.db, cache, 'p1', { minPosition: 700n, projectionReached: 700n })).toMatchObject({ price: 999 });
      expect(await cache.get('product:p1')).toMatchObject({ position: 700n });
      // Behind the cache's back (no sink): the next reader with the same token is served from the cache.
      await applyBatches(handle.db, catalogProjection, historyFrom(800n, priceChanged('p1', 1010, 999)));
      expect(await readProductCached(handle.db, cache, 'p1', { minPosition: 700n })).toMatchObject({ price: 999 });
      expect(await readProductCached(handle.db, cache, 'p1', { minPosition: 800n })).toMatchObject({ price: 1010 });
      await applyBatches(handle.db, catalogProjection, historyFrom(850n, priceChanged('p1', 999, 1010)));
    });

    it('a late, older write (a slow reader filling the cache) never replaces a newer entry', async () => {
      await createCacheChangeSink(cache).publish([{ topic: 'product:p1', position: 900n, payload: { stale: false } }]);
      expect(await cache.set('product:p1', { position: 500n, payload: { stale: true } })).toBe(false);
      expect(await cache.get('product:p1')).toEqual({ position: 900n, payload: { stale: false } });
    });

    it('an entry that is not a product (old format) counts as a miss and is replaced from PostgreSQL', async () => {
      await cache.delete('product:p1');
      await cache.set('product:p1', { position: 100n, payload: { something: 'else' } });
      expect(await readProductCached(handle.db, cache, 'p1')).toMatchObject({ productId: 'p1', price: 999 });
      expect(await cache.get('product:p1')).toMatchObject({ position: 850n });
    });

    it('availability reads through the cache the same way; unknown SKUs are not cached', async () => {
      await cache.delete('availability:SKU-1');
      expect(await readAvailabilityCached(handle.db, cache, 'SKU-1')).toMatchObject({ available: 10, updatedPosition: 300n });
      expect(await cache.get('availability:SKU-1')).toMatchObject({ position: 300n });
      expect(await readAvailabilityCached(handle.db, cache, 'NOPE')).toBeUndefined();
      expect(await cache.get('availability:NOPE')).toBeUndefined();
    });
  });

  afterAll(async () => {
    if (kind !== 'Redis') return;
    const raw = new Redis(redisTestUrl());
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.del(...keys);
    await raw.quit();
  });
});
