/**
 * Writes the Redis cache loses to an outage leave entries older than the read model behind. A
 * read without a consistency token would serve them until their TTL (an hour), so the cache
 * removes them once Redis answers again; past MAX_UNWRITTEN keys it removes every entry under its
 * prefix. Real Redis, keeping its data, behind a TCP proxy this file cuts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadCache } from '../../../src/projections/cache/read-cache.js';
import { MAX_UNWRITTEN, openRedisReadCache } from '../../../src/projections/cache/redis-cache.js';
import { redisTestPrefix } from '../../support/database.js';
import { eventually, redisUrlWithPort } from '../../support/degradation-harness.js';
import { startTcpProxy, type TcpProxy } from '../../support/event-store-tcp-proxy.js';
import { recordingLogger } from '../../support/read-model-cache.js';

const entry = (position: bigint, price: number) => ({ position, payload: { price } });

describe('cache writes lost to an outage (Redis behind a TCP proxy)', () => {
  let proxy: TcpProxy;
  let cache: ReadCache;
  const logger = recordingLogger();

  /** Cuts the proxy and waits until the cache has noticed (a write answers false). */
  const cut = async (): Promise<void> => {
    proxy.cut();
    await eventually('the cache to see Redis gone', async () => !(await cache.set('probe', entry(1n, 0))));
  };
  const resume = async (): Promise<void> => {
    proxy.resume();
    await eventually('the cache to reconnect', () => cache.set('probe', entry(1n, 0)));
  };

  beforeAll(async () => {
    proxy = await startTcpProxy(redisUrlWithPort());
    cache = await openRedisReadCache({ url: proxy.url, keyPrefix: redisTestPrefix('read-cache-lost'), logger });
  });
  afterAll(async () => {
    await cache?.close();
    await proxy?.close();
  });

  it('removes, once Redis is back, the entries whose refresh was lost, and only those', async () => {
    expect(await cache.set('product:a', entry(100n, 1000))).toBe(true);
    expect(await cache.set('product:b', entry(100n, 2000))).toBe(true);
    await cut();
    // The projector's write of a's new state is lost; Redis still holds 100.
    expect(await cache.set('product:a', entry(200n, 1100))).toBe(false);
    await resume();
    await eventually('the stale entry to be removed', async () => (await cache.get('product:a')) === undefined);
    expect(await cache.get('product:b')).toEqual(entry(100n, 2000));
    await eventually('the removal to be logged', async () => logger.lines.some((l) => l.msg === 'Redis cache: removed the entries whose refresh was lost to the outage'));
    // The next write fills it again, as a read's would.
    expect(await cache.set('product:a', entry(200n, 1100))).toBe(true);
    expect(await cache.get('product:a')).toEqual(entry(200n, 1100));
  });

  it(`removes every entry under its prefix once more than ${MAX_UNWRITTEN} keys were lost`, async () => {
    expect(await cache.set('product:b', entry(300n, 2100))).toBe(true);
    await cut();
    for (let i = 0; i <= MAX_UNWRITTEN; i++) await cache.set(`availability:SKU-${i}`, entry(400n, i));
    await resume();
    await eventually('every entry to be removed', async () => (await cache.get('product:b')) === undefined && (await cache.get('product:a')) === undefined);
  });
});
