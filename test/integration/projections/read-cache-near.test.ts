/**
 * The near cache (the API process's in-process L1 in front of Redis): filled by reads, refreshed
 * by change notices, stamps never going backwards, bypassed for a newer consistency token,
 * expiring after its TTL (a test clock), emptied when the notice subscription is made again.
 * Real Redis (through a TCP proxy this file can cut) and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../../src/platform/database.js';
import { openDatabase } from '../../../src/platform/database.js';
import { readAvailabilityCached, readProductCached } from '../../../src/projections/cache/cached-readers.js';
import { createCacheChangeSink } from '../../../src/projections/cache/change-sink.js';
import { createNearCache, openNearCache } from '../../../src/projections/cache/near-cache.js';
import type { NearCache } from '../../../src/projections/cache/near-cache.js';
import type { ReadCache } from '../../../src/projections/cache/read-cache.js';
import { openRedisReadCache } from '../../../src/projections/cache/redis-cache.js';
import { liveSchemaOf } from '../../../src/projections/projection.js';
import { catalogProjection } from '../../../src/projections/read-models/catalog/index.js';
import { getAvailability, getProduct } from '../../../src/projections/read-models/catalog/queries.js';
import type { ProductView } from '../../../src/projections/read-models/catalog/views.js';
import { availabilityFromPayload, availabilityToPayload, productFromPayload, productToPayload } from '../../../src/projections/read-models/catalog/views.js';
import { createTestDatabase, redisTestPrefix, redisTestUrl, type TestDatabase } from '../../support/database.js';
import { startTcpProxy, type TcpProxy } from '../../support/event-store-tcp-proxy.js';
import { applyBatches, resetSchema } from '../../support/projection-spec.js';
import { recordingLogger } from '../../support/read-model-cache.js';
import { history, historyFrom, listed, priceChanged, received, tracked } from '../../support/read-model-events.js';

/** Polls `check` until true; rejects after `ms` (a hang guard, not a timing assertion). */
const eventually = async (what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const TTL_MS = 1_000;

const must = <T>(value: T | undefined): T => {
  if (value === undefined) throw new Error('missing');
  return value;
};

/** The test Redis' URL with its port spelled out (the proxy's default port is PostgreSQL's). */
const redisUrlWithPort = (): string => {
  const url = new URL(redisTestUrl());
  if (url.port === '') url.port = '6379';
  return url.toString();
};

describe('near cache (in-process L1 over Redis)', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  let proxy: TcpProxy;
  let cache: ReadCache;
  let near: NearCache;
  let clock = 1_000_000;
  const now = (): number => clock;

  /** Commits a price change in PostgreSQL only: no notice, no Redis entry (a change behind the caches' backs). */
  const commitPrice = (position: bigint, price: number, previous: number) =>
    applyBatches(handle.db, catalogProjection, historyFrom(position, priceChanged('p1', price, previous)));
  /** What the projector does after a commit: the Redis entry, then the notice. */
  const announce = async (productId: string): Promise<ProductView> => {
    const view = await getProduct(handle.db, productId);
    if (view === undefined) throw new Error(`no product ${productId}`);
    await createCacheChangeSink(cache).publish([{ topic: `product:${productId}`, position: view.updatedPosition, payload: productToPayload(view) }]);
    return view;
  };
  const held = (key = 'product:p1', minPosition?: bigint) => near.get<ProductView>(key, minPosition);
  const read = (minPosition?: bigint) => readProductCached(handle.db, cache, 'p1', minPosition === undefined ? {} : { minPosition }, near);

  beforeAll(async () => {
    database = await createTestDatabase('read_cache_near');
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    await resetSchema(handle.db, catalogProjection, liveSchemaOf('catalog'));
    await applyBatches(handle.db, catalogProjection, history(listed('p1', 'SKU-1', 'Mug', 1000), tracked('SKU-1', 'p1'), received('SKU-1', 5)));
    proxy = await startTcpProxy(redisUrlWithPort());
    cache = await openRedisReadCache({ url: proxy.url, keyPrefix: redisTestPrefix('read-cache-near'), logger: recordingLogger() });
    near = openNearCache(cache, { 'product:': productFromPayload, 'availability:': availabilityFromPayload }, { ttlMs: TTL_MS, now });
    await eventually('the near cache to subscribe', () => near.live());
  });
  afterAll(async () => {
    await near?.close();
    await cache?.close();
    await proxy?.close();
    await handle?.close();
    await database?.drop();
  });

  it('is filled by a read and then answers without Redis or PostgreSQL', async () => {
    expect(await read()).toMatchObject({ price: 1000, updatedPosition: 300n });
    expect(held()).toMatchObject({ price: 1000, updatedPosition: 300n });
    expect(await readAvailabilityCached(handle.db, cache, 'SKU-1', {}, near)).toMatchObject({ available: 5 });
    expect(near.get('availability:SKU-1')).toMatchObject({ available: 5, updatedPosition: 300n });
    // Behind every cache's back: the L1 answers (its entry is not expired), and Redis has gone too.
    await cache.delete('product:p1');
    await commitPrice(350n, 1050, 1000);
    expect(await read()).toMatchObject({ price: 1000, updatedPosition: 300n });
  });

  it('is refreshed by a change notice (with the row and its position)', async () => {
    await commitPrice(400n, 1100, 1050);
    await announce('p1');
    await eventually('the notice to reach the near cache', () => held()?.updatedPosition === 400n);
    expect(await read()).toMatchObject({ price: 1100, updatedPosition: 400n });
  });

  it('never goes backwards: an older notice, read or offer loses to the newer stamp', async () => {
    const older = { ...productToPayload(must(await getProduct(handle.db, 'p1'))), price: 999, updatedPosition: '390' };
    await cache.publish({ topic: 'product:p1', position: 390n, payload: older });
    // A notice published after the older one, so once it has arrived the older one has too.
    await cache.publish({ topic: 'availability:SKU-1', position: 400n, payload: availabilityToPayload({ ...must(await getAvailability(handle.db, 'SKU-1')), updatedPosition: 400n }) });
    await eventually('the later notice to arrive', () => near.get<{ updatedPosition: bigint }>('availability:SKU-1')?.updatedPosition === 400n);
    expect(held()).toMatchObject({ price: 1100, updatedPosition: 400n });
    expect(near.offer('product:p1', 399n, { ...held(), price: 1 })).toBe(false);
    expect(held()).toMatchObject({ price: 1100 });
    // Expired, the entry still holds its stamp: an older state does not come back in its place.
    clock += TTL_MS;
    expect(held()).toBeUndefined();
    expect(near.offer('product:p1', 399n, { price: 1 })).toBe(false);
    expect(near.offer('product:p1', 400n, await getProduct(handle.db, 'p1'))).toBe(true);
    expect(held()).toMatchObject({ price: 1100, updatedPosition: 400n });
  });

  it('is bypassed by a read with a newer consistency token, which then stamps it with the token', async () => {
    await commitPrice(500n, 1200, 1100);
    expect(await read()).toMatchObject({ price: 1100 });
    expect(held('product:p1', 500n)).toBeUndefined();
    expect(await read(500n)).toMatchObject({ price: 1200, updatedPosition: 500n });
    expect(held('product:p1', 500n)).toMatchObject({ price: 1200 });
    // A token the near cache's entry satisfies is served from it.
    expect(await read(450n)).toMatchObject({ price: 1200 });
  });

  it('expires an entry after its TTL: the next read goes to Redis and PostgreSQL', async () => {
    await commitPrice(600n, 1300, 1200);
    expect(await read()).toMatchObject({ price: 1200 });
    clock += TTL_MS - 1;
    expect(await read()).toMatchObject({ price: 1200 });
    clock += 1;
    expect(held()).toBeUndefined();
    // Redis holds 500 (the token read wrote it): served from there, and the L1 is filled again.
    expect(await read()).toMatchObject({ price: 1200, updatedPosition: 500n });
    await cache.delete('product:p1');
    clock += TTL_MS;
    expect(await read()).toMatchObject({ price: 1300, updatedPosition: 600n });
    expect(held()).toMatchObject({ price: 1300 });
  });

  it('serves and keeps nothing while the notice connection is down, and is emptied when it is made again', async () => {
    expect(near.size).toBeGreaterThan(0);
    proxy.cut();
    await eventually('the notices to be reported lost', () => !near.live());
    expect(held()).toBeUndefined();
    // Reads still answer (from PostgreSQL), and the near cache keeps none of it meanwhile.
    await commitPrice(700n, 1400, 1300);
    expect(await read()).toMatchObject({ price: 1400, updatedPosition: 700n });
    expect(held()).toBeUndefined();
    proxy.resume();
    await eventually('the subscription to be made again', () => near.live());
    expect(near.size).toBe(0);
    // Live again: notices refresh it and reads are served from it.
    await eventually('the cache to reconnect', () => cache.set('probe', { position: 1n, payload: {} }));
    await announce('p1');
    await eventually('the notice after reconnection', () => held()?.updatedPosition === 700n);
    expect(await read()).toMatchObject({ price: 1400, updatedPosition: 700n });
    await commitPrice(800n, 1500, 1400);
    await announce('p1');
    await eventually('the next notice', () => held()?.updatedPosition === 800n);
    expect(await read()).toMatchObject({ price: 1500 });
  });

  it('voids a read that started before a clear, and bounds its size', () => {
    const local = createNearCache({ maxEntries: 2, now });
    const epoch = local.epoch();
    local.clear();
    expect(local.offer('product:x', 1n, { x: 1 }, epoch)).toBe(false);
    expect(local.offer('product:a', 1n, { a: 1 })).toBe(true);
    expect(local.offer('product:b', 1n, { b: 1 })).toBe(true);
    expect(local.offer('product:c', 1n, { c: 1 })).toBe(true);
    expect(local.size).toBe(2);
    expect(local.get('product:a')).toBeUndefined();
    expect(local.get('product:c')).toEqual({ c: 1 });
  });
});
