/**
 * Graceful degradation when PostgreSQL cannot be reached while the event store is EventStoreDB: the
 * whole server (`startKeel` in this process), PostgreSQL behind a TCP proxy the test cuts and
 * restores (the machine's PostgreSQL itself is shared with other test files and never stopped),
 * real Redis, and EsdbProtocolDouble, an in-process FAKE of EventStoreDB's gRPC protocol driven by
 * the real client, as the event store. The proxy first refuses connections, then holds them
 * silent (a partition; DATABASE_URL sets node-postgres' `query_timeout`, as the operations page
 * advises). What users rely on: `/ready` names the database; mutations keep working (they need
 * only the event store); queries answer from the cache or fail with KEEL_ERR_DATABASE_UNAVAILABLE,
 * never hang; once PostgreSQL is back, `/ready` is 200 again and the projections and the process
 * manager catch up on what was appended meanwhile, without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECT_TIMEOUT_MS } from '../../../src/platform/database.js';
import type { KeelServer } from '../../../src/server/index.js';
import { createTestDatabase, redisTestPrefix, redisTestUrl } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';
import {
  admin,
  alice,
  codesOf,
  eventually,
  gql,
  ORDER,
  PRODUCT,
  payloadOf,
  placeOrder,
  readiness,
  seedCatalog,
  startTestKeel,
  timed,
} from '../../support/degradation-harness.js';
import { EsdbProtocolDouble } from '../../support/esdb-double/index.js';
import { startTcpProxy } from '../../support/event-store-tcp-proxy.js';
import type { TcpProxy } from '../../support/event-store-tcp-proxy.js';

/** The longest a mutation or a query may take while PostgreSQL refuses connections. */
const FAIL_FAST_MS = 3_000;
/** DATABASE_URL's `query_timeout` here: how long a query waits for a silent server. */
const QUERY_TIMEOUT_MS = 2_000;
/** What a call may take beyond its timeout on a busy test machine. */
const SLACK_MS = 1_500;

const keyedOrder = (key: string): string =>
  `mutation { placeOrder(input: { lines: [{ sku: "MUG", quantity: 2, unitPrice: 1200 }], currency: "EUR", idempotencyKey: "${key}" }) { orderId consistencyToken duplicate } }`;
const REVOKE = 'mutation { revokeTokens(input: { subject: "mallory" }) { subject } }';

describe('PostgreSQL unreachable with EventStoreDB as the event store (EsdbProtocolDouble, a fake)', () => {
  let database: TestDatabase;
  let double: EsdbProtocolDouble;
  let proxy: TcpProxy;
  let keel: KeelServer;
  beforeAll(async () => {
    database = await createTestDatabase('degrade_pg');
    double = await EsdbProtocolDouble.start();
    proxy = await startTcpProxy(database.url);
    keel = await startTestKeel({
      DATABASE_URL: `${proxy.url}?query_timeout=${QUERY_TIMEOUT_MS}`,
      EVENTSTORE_URL: double.url,
      REDIS_URL: redisTestUrl(),
      REDIS_KEY_PREFIX: redisTestPrefix('degrade-pg'),
    });
  });
  afterAll(async () => {
    await keel?.close();
    await proxy?.close();
    await double?.close();
    await database?.drop();
  });

  it('keeps taking orders, fails /ready on the database, and catches up once PostgreSQL is back', async () => {
    const stocked = await seedCatalog(keel);
    const before = await placeOrder(keel);
    expect((await gql(keel, ORDER, { id: before.orderId, t: before.token }, alice)).body.data).toEqual({ order: { id: before.orderId, status: expect.any(String) } });
    const product = (await gql(keel, PRODUCT, { t: stocked })).body.data;

    // Silent: connections held open, nothing answered (a partition), which only the URL's
    // query_timeout (on open connections) and Keel's connect timeout (on new ones) end. Cut:
    // connections refused or reset.
    const outages = [
      { outage: 'silent', breakIt: () => proxy.blackhole(), boundMs: Math.max(QUERY_TIMEOUT_MS, CONNECT_TIMEOUT_MS) + SLACK_MS },
      { outage: 'cut', breakIt: () => proxy.cut(), boundMs: FAIL_FAST_MS },
    ] as const;
    const during: Array<Record<string, unknown>> = [];
    for (const { outage, breakIt, boundMs } of outages) {
      breakIt();
      await eventually(`/ready to name the database (${outage})`, async () => (await readiness(keel)).failing.includes('database'));
      const down = await readiness(keel);
      expect(down.status).toBe(503);
      expect(down.checks).toMatchObject({ eventstore: 'ok', redis: 'ok' });

      // Mutations need only EventStoreDB: an order with an idempotency key, and its re-send.
      const placing = () => gql(keel, keyedOrder(outage), undefined, alice);
      const placed = await timed(placing);
      const order = payloadOf(placed.value, 'placeOrder');
      expect(order).toMatchObject({ duplicate: false });
      expect(payloadOf(await placing(), 'placeOrder')).toMatchObject({ orderId: order.orderId, duplicate: true });
      during.push(order);
      // The one mutation that writes PostgreSQL fails, coded.
      const revoked = await timed(() => gql(keel, REVOKE, undefined, admin));
      expect(codesOf(revoked.value)).toEqual(['KEEL_ERR_DATABASE_UNAVAILABLE']);

      // Queries: the product from the cache (Redis, past the near cache's second), the order
      // (never cached) a coded error.
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const cached = await timed(() => gql(keel, PRODUCT));
      const uncached = await timed(() => gql(keel, ORDER, { id: before.orderId }, alice));
      console.log(
        `PostgreSQL ${outage}: placeOrder answered in ${placed.ms} ms, revokeTokens in ${revoked.ms} ms, ` +
          `cached product read in ${cached.ms} ms, uncached order read in ${uncached.ms} ms`,
      );
      expect(cached.value.body).toEqual({ data: product });
      expect(codesOf(uncached.value)).toEqual(['KEEL_ERR_DATABASE_UNAVAILABLE']);
      expect(placed.ms).toBeLessThan(FAIL_FAST_MS);
      expect(cached.ms).toBeLessThan(FAIL_FAST_MS);
      for (const ms of [revoked.ms, uncached.ms]) expect(ms).toBeLessThan(boundMs);
    }

    proxy.resume();
    const recovered = await timed(() => eventually('/ready to be 200 again', async () => (await readiness(keel)).status === 200, 30_000));
    console.log(`PostgreSQL back: /ready 200 again after ${recovered.ms} ms`);
    // The orders placed during the outages reach the read model, and the process manager confirms them.
    for (const order of during) {
      const id = String(order.orderId);
      const caught = await gql(keel, ORDER, { id, t: order.consistencyToken }, alice);
      expect(caught.body).toEqual({ data: { order: { id, status: expect.any(String) } } });
      await eventually(`order ${id}, placed during an outage, to be confirmed`, async () =>
        JSON.stringify((await gql(keel, ORDER, { id }, alice)).body.data).includes('CONFIRMED'));
    }
    expect(payloadOf(await gql(keel, REVOKE, undefined, admin), 'revokeTokens')).toEqual({ subject: 'mallory' });
  });
});
