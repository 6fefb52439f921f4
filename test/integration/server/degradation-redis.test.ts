/**
 * Graceful degradation when Redis cannot be reached, on the whole server (`startKeel` in this
 * process, PostgreSQL event store, real PostgreSQL) with Redis behind a TCP proxy the test breaks:
 * first silent (a partition: connections open, nothing answers), then cut (refused). Redis holds
 * derived data only (the read cache, its change notices, the rate limit's counters), so what users
 * rely on is: queries keep answering, from PostgreSQL, and mutations keep working, each at most one
 * socket timeout (2 s) for the first calls on a silent connection, at once after that and when
 * refused, never hanging; `/ready` names Redis; once it is back, `/ready`
 * is 200 and the cache is filled and used again, without a restart. The read side's own behaviour
 * (bounded reads, notices, subscriptions) is tested in
 * test/integration/projections/read-cache-redis-down.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis } from '../../../src/platform/redis.js';
import type { Redis } from '../../../src/platform/redis.js';
import type { KeelServer } from '../../../src/server/index.js';
import { createTestDatabase, redisTestPrefix } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';
import {
  admin,
  CHANGE_PRICE,
  eventually,
  gql,
  PRODUCT,
  payloadOf,
  placeOrder,
  readiness,
  redisUrlWithPort,
  seedCatalog,
  startTestKeel,
  timed,
} from '../../support/degradation-harness.js';
import { startTcpProxy } from '../../support/event-store-tcp-proxy.js';
import type { TcpProxy } from '../../support/event-store-tcp-proxy.js';

/** Redis' socket timeout (src/platform/redis.ts): how long a silent connection is waited for. */
const SOCKET_TIMEOUT_MS = 2_000;
/** What a call that does not wait for Redis may take on a busy test machine. */
const SLACK_MS = 1_500;

describe('Redis unreachable (Redis behind a TCP proxy)', () => {
  const prefix = redisTestPrefix('degrade-redis');
  let database: TestDatabase;
  let proxy: TcpProxy;
  let direct: Redis;
  let keel: KeelServer;
  beforeAll(async () => {
    database = await createTestDatabase('degrade_redis');
    proxy = await startTcpProxy(redisUrlWithPort());
    direct = await openRedis(redisUrlWithPort());
    keel = await startTestKeel({ DATABASE_URL: database.url, REDIS_URL: proxy.url, REDIS_KEY_PREFIX: prefix });
  });
  afterAll(async () => {
    await keel?.close();
    await proxy?.close();
    direct?.disconnect();
    await database?.drop();
  });

  /** The product's cache entry (a hash: `p` its position, `v` its payload), straight from Redis. */
  const cachedProduct = async (): Promise<string | null> => direct.hget(`${prefix}cache:product:mug`, 'v');

  it('answers queries from PostgreSQL and keeps taking orders while Redis is silent or gone, then uses it again', async () => {
    const stocked = await seedCatalog(keel);
    expect((await gql(keel, PRODUCT, { t: stocked })).body.data).toEqual({ product: { id: 'mug', price: 1200, available: 100 } });
    expect(await cachedProduct()).not.toBeNull();

    let price = 1200;
    // Silent: a request's first call on a connection waits out the socket timeout (2 s), which then
    // drops the connection; while it reconnects, calls fail at once. Cut: they fail at once.
    const outages = [
      { outage: 'silent', breakIt: () => proxy.blackhole(), firstMs: SOCKET_TIMEOUT_MS + SLACK_MS },
      { outage: 'cut', breakIt: () => proxy.cut(), firstMs: SLACK_MS },
    ] as const;
    for (const { outage, breakIt, firstMs } of outages) {
      breakIt();
      price += 100;
      // A price change behind the cache's back: the read must come from PostgreSQL to see it.
      const changed = await timed(() => gql(keel, CHANGE_PRICE, { price }, admin));
      const token = payloadOf(changed.value, 'changePrice').consistencyToken;
      const read = await timed(() => gql(keel, PRODUCT, { t: token }));
      const order = await timed(() => placeOrder(keel, price));
      const later: number[] = [];
      for (let i = 0; i < 5; i++) {
        const again = await timed(() => gql(keel, PRODUCT));
        expect(again.value.body).toEqual({ data: { product: { id: 'mug', price, available: expect.any(Number) } } });
        later.push(again.ms);
      }
      console.log(`Redis ${outage}: changePrice answered in ${changed.ms} ms, product read in ${read.ms} ms, placeOrder in ${order.ms} ms, then reads in ${later.join(', ')} ms`);
      expect(read.value.body).toEqual({ data: { product: { id: 'mug', price, available: expect.any(Number) } } });
      for (const ms of [changed.ms, read.ms, order.ms]) expect(ms).toBeLessThan(firstMs);
      for (const ms of later) expect(ms).toBeLessThan(SLACK_MS);

      await eventually(`/ready to name Redis (${outage})`, async () => (await readiness(keel)).failing.includes('redis'));
      const down = await readiness(keel);
      expect(down.status).toBe(503);
      expect(down.failing).toEqual(['redis']);
    }

    proxy.resume();
    await eventually('/ready to be 200 again', async () => (await readiness(keel)).status === 200);
    // Writes the silent proxy held are delivered when it resumes; an older entry among them, landing
    // after the removal below, would be stored (nothing newer is there to refuse it). Let them land
    // first: this step is about refilling, not about writes released by the partition.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // The cache is filled again: an entry removed behind its back comes back with the next read.
    await direct.del(`${prefix}cache:product:mug`);
    await eventually('a read to fill the cache again', async () => {
      await gql(keel, PRODUCT);
      return (await cachedProduct()) !== null;
    });
    expect(JSON.parse((await cachedProduct()) ?? '{}')).toMatchObject({ price });
  });
});
