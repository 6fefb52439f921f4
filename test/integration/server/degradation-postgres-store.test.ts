/**
 * Graceful degradation when the event store cannot be reached and the event store is PostgreSQL
 * itself: the whole server (`startKeel` in this process) with PostgreSQL behind a TCP proxy the
 * test breaks and restores (the machine's PostgreSQL is shared with other test files and never
 * stopped), first silent (a partition; DATABASE_URL sets node-postgres' `query_timeout`, as the
 * operations page advises), then refusing connections; real Redis. What users rely on: a mutation
 * is answered with KEEL_ERR_EVENTSTORE_UNAVAILABLE, fast when refused and within the timeouts when
 * silent, never left hanging; what the cache holds (Redis) is still served; `/ready` names the
 * database and the event store; once PostgreSQL is back, mutations work again without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECT_TIMEOUT_MS } from '../../../src/platform/database.js';
import type { KeelServer } from '../../../src/server/index.js';
import { createTestDatabase, redisTestPrefix, redisTestUrl } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';
import {
  admin,
  alice,
  CHANGE_PRICE,
  codesOf,
  eventually,
  gql,
  ORDER,
  PLACE_ORDER,
  PRODUCT,
  placeOrder,
  readiness,
  seedCatalog,
  startTestKeel,
  timed,
} from '../../support/degradation-harness.js';
import { startTcpProxy } from '../../support/event-store-tcp-proxy.js';
import type { TcpProxy } from '../../support/event-store-tcp-proxy.js';

/** The longest a mutation may take to say the event store is unavailable when it refuses connections. */
const FAIL_FAST_MS = 3_000;
/** DATABASE_URL's `query_timeout` here: how long a query waits for a silent server. */
const QUERY_TIMEOUT_MS = 2_000;
/** What a call may take beyond its timeout on a busy test machine. */
const SLACK_MS = 1_500;

describe('PostgreSQL event store unreachable (PostgreSQL behind a TCP proxy, Redis up)', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let keel: KeelServer;
  beforeAll(async () => {
    database = await createTestDatabase('degrade_pg_store');
    proxy = await startTcpProxy(database.url);
    keel = await startTestKeel({ DATABASE_URL: `${proxy.url}?query_timeout=${QUERY_TIMEOUT_MS}`, REDIS_URL: redisTestUrl(), REDIS_KEY_PREFIX: redisTestPrefix('degrade-pg-store') });
  });
  afterAll(async () => {
    await keel?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('answers mutations fast with KEEL_ERR_EVENTSTORE_UNAVAILABLE, serves cached reads from Redis, and recovers without a restart', async () => {
    const stocked = await seedCatalog(keel);
    // Read once: the product is now in Redis (and in the process' near cache for a second).
    expect((await gql(keel, PRODUCT, { t: stocked })).body.data).toEqual({ product: { id: 'mug', price: 1200, available: 100 } });

    // Silent: connections held open, nothing answered (a partition), which only the URL's
    // query_timeout (on open connections) and Keel's connect timeout (on new ones) end. Cut:
    // connections refused or reset.
    const outages = [
      { outage: 'silent', breakIt: () => proxy.blackhole(), boundMs: Math.max(QUERY_TIMEOUT_MS, CONNECT_TIMEOUT_MS) + SLACK_MS },
      { outage: 'cut', breakIt: () => proxy.cut(), boundMs: FAIL_FAST_MS },
    ] as const;
    for (const { outage, breakIt, boundMs } of outages) {
      breakIt();
      const order = await timed(() => gql(keel, PLACE_ORDER, undefined, alice));
      const price = await timed(() => gql(keel, CHANGE_PRICE, { price: 1300 }, admin));
      // Past the near cache's second: the product comes from Redis, without PostgreSQL.
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const cached = await timed(() => gql(keel, PRODUCT));
      console.log(`PostgreSQL event store ${outage}: placeOrder answered in ${order.ms} ms, changePrice in ${price.ms} ms, cached product read in ${cached.ms} ms`);
      for (const { value, ms } of [order, price]) {
        expect(codesOf(value)).toEqual(['KEEL_ERR_EVENTSTORE_UNAVAILABLE']);
        expect(ms).toBeLessThan(boundMs);
      }
      expect(cached.value.body).toEqual({ data: { product: { id: 'mug', price: 1200, available: 100 } } });
      expect(cached.ms).toBeLessThan(FAIL_FAST_MS);

      await eventually(`/ready to name the database (${outage})`, async () => (await readiness(keel)).failing.includes('database'));
      const down = await readiness(keel);
      expect(down.status).toBe(503);
      expect(down.failing).toEqual(expect.arrayContaining(['database', 'eventstore']));
      expect(down.checks).toMatchObject({ redis: 'ok' });
    }

    proxy.resume();
    await eventually('mutations to work again', async () => (await gql(keel, PLACE_ORDER, undefined, alice)).body.errors === undefined);
    const after = await placeOrder(keel);
    expect((await gql(keel, ORDER, { id: after.orderId, t: after.token }, alice)).body.data).toEqual({ order: { id: after.orderId, status: expect.any(String) } });
    await eventually('/ready to be 200 again', async () => (await readiness(keel)).status === 200);
  });
});
