/**
 * Graceful degradation when EventStoreDB cannot be reached: the whole server (`startKeel` in this
 * process) with real PostgreSQL and Redis, and as EventStoreDB the in-process FAKE
 * EsdbProtocolDouble (EventStoreDB's gRPC protocol, driven by the real client) behind a TCP proxy
 * the test breaks, first by refusing connections, then by holding them silent (a partition). What
 * users rely on: a mutation is answered with KEEL_ERR_EVENTSTORE_UNAVAILABLE (a client knows to
 * retry it) within a few seconds when connections are refused, within the deadline when nothing
 * answers, never left hanging; queries keep answering from the read models and the cache; `/ready`
 * names the event store; once it is back, mutations work again without a restart. The adapter's
 * own deadlines (src/eventstore/esdb/deadline.ts) are checked below on an append and a read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DEADLINE_MS } from '../../../src/eventstore/esdb/deadline.js';
import { createEsdbEventStore } from '../../../src/eventstore/esdb/index.js';
import type { EventStore } from '../../../src/eventstore/port.js';
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

/** The longest a mutation may take to say the event store is unavailable when it refuses connections. */
const FAIL_FAST_MS = 3_000;
/** What a call that does not wait for the event store may take on a busy test machine. */
const SLACK_MS = 1_500;

describe('EventStoreDB unreachable (EsdbProtocolDouble, a fake, behind a TCP proxy)', () => {
  let database: TestDatabase;
  let double: EsdbProtocolDouble;
  let proxy: TcpProxy;
  let keel: KeelServer;
  beforeAll(async () => {
    database = await createTestDatabase('degrade_esdb');
    double = await EsdbProtocolDouble.start();
    proxy = await startTcpProxy(double.url);
    keel = await startTestKeel({
      DATABASE_URL: database.url,
      EVENTSTORE_URL: proxy.url,
      REDIS_URL: redisTestUrl(),
      REDIS_KEY_PREFIX: redisTestPrefix('degrade-esdb'),
    });
  });
  afterAll(async () => {
    await keel?.close();
    await proxy?.close();
    await double?.close();
    await database?.drop();
  });

  it('answers mutations fast with KEEL_ERR_EVENTSTORE_UNAVAILABLE, keeps serving queries, and recovers without a restart', async () => {
    const stocked = await seedCatalog(keel);
    const before = await placeOrder(keel);
    const seen = await gql(keel, ORDER, { id: before.orderId, t: before.token }, alice);
    expect(seen.body.data).toEqual({ order: { id: before.orderId, status: expect.any(String) } });
    expect((await gql(keel, PRODUCT, { t: stocked })).body.data).toEqual({ product: { id: 'mug', price: 1200, available: expect.any(Number) } });

    // Cut: connections refused or reset. Silent: connections held open, nothing answered (a
    // partition), which only the deadline ends.
    const outages = [
      { outage: 'cut', breakIt: () => proxy.cut(), boundMs: FAIL_FAST_MS },
      { outage: 'silent', breakIt: () => proxy.blackhole(), boundMs: DEFAULT_DEADLINE_MS + SLACK_MS },
    ] as const;
    for (const { outage, breakIt, boundMs } of outages) {
      breakIt();
      const order = await timed(() => gql(keel, PLACE_ORDER, undefined, alice));
      const price = await timed(() => gql(keel, CHANGE_PRICE, { price: 1300 }, admin));
      console.log(`EventStoreDB ${outage}: placeOrder answered in ${order.ms} ms, changePrice in ${price.ms} ms`);
      for (const { value, ms } of [order, price]) {
        expect(codesOf(value)).toEqual(['KEEL_ERR_EVENTSTORE_UNAVAILABLE']);
        expect(ms).toBeLessThan(boundMs);
      }

      // Queries read the read models (PostgreSQL) and the cache: unaffected.
      expect((await gql(keel, PRODUCT)).body).toEqual({ data: { product: { id: 'mug', price: 1200, available: expect.any(Number) } } });
      expect((await gql(keel, ORDER, { id: before.orderId }, alice)).body).toEqual({ data: { order: { id: before.orderId, status: expect.any(String) } } });

      await eventually(`/ready to name the event store (${outage})`, async () => (await readiness(keel)).failing.includes('eventstore'));
      const down = await readiness(keel);
      expect(down.status).toBe(503);
      // The projections' check measures lag against the event store's head, so it fails with it.
      expect(down.failing).toContain('eventstore');
      expect(down.checks).toMatchObject({ database: 'ok', redis: 'ok' });
    }

    proxy.resume();
    const recovered = await timed(() => eventually('mutations to work again', async () => (await gql(keel, PLACE_ORDER, undefined, alice)).body.errors === undefined));
    console.log(`EventStoreDB back: mutations work again after ${recovered.ms} ms`);
    const after = await placeOrder(keel);
    expect((await gql(keel, ORDER, { id: after.orderId, t: after.token }, alice)).body.data).toEqual({ order: { id: after.orderId, status: expect.any(String) } });
    const changed = payloadOf(await gql(keel, CHANGE_PRICE, { price: 1400 }, admin), 'changePrice');
    expect((await gql(keel, PRODUCT, { t: changed.consistencyToken })).body.data).toEqual({ product: { id: 'mug', price: 1400, available: expect.any(Number) } });
    await eventually('/ready to be 200 again', async () => (await readiness(keel)).status === 200);
  });
});

describe('the EventStoreDB adapter against a silent server (EsdbProtocolDouble, a fake, behind a TCP proxy)', () => {
  const DEADLINE_MS = 1_000;
  let double: EsdbProtocolDouble;
  let proxy: TcpProxy;
  let store: EventStore;
  beforeAll(async () => {
    double = await EsdbProtocolDouble.start();
    proxy = await startTcpProxy(double.url);
    // The connection string's own deadline setting, which Keel applies to every call.
    store = createEsdbEventStore(`${proxy.url}&defaultDeadline=${DEADLINE_MS}`);
  });
  afterAll(async () => {
    await proxy?.close();
    await double?.close();
  });

  const event = (id: string) => ({ id, type: 'Probed', data: { id }, metadata: {} });

  it('fails an append and a read with KEEL_ERR_EVENTSTORE_UNAVAILABLE at the deadline, closes, and works again after', async () => {
    await store.append('probe-1', [event('00000000-0000-4000-8000-000000000001')]);

    proxy.blackhole();
    const append = await timed(() => store.append('probe-1', [event('00000000-0000-4000-8000-000000000002')]).then(() => 'appended', (error: unknown) => error));
    const read = await timed(async () => {
      try {
        for await (const _ of store.readStream('probe-1')) void _;
        return 'read';
      } catch (error) {
        return error;
      }
    });
    console.log(`EventStoreDB silent, defaultDeadline=${DEADLINE_MS}: append failed in ${append.ms} ms, read in ${read.ms} ms`);
    expect(append.value).toMatchObject({ code: 'KEEL_ERR_EVENTSTORE_UNAVAILABLE' });
    expect(read.value).toMatchObject({ code: 'KEEL_ERR_EVENTSTORE_UNAVAILABLE' });
    expect(append.ms).toBeLessThan(DEADLINE_MS + SLACK_MS);
    expect(read.ms).toBeLessThan(DEADLINE_MS + SLACK_MS);

    proxy.resume();
    await eventually('appends to work again', () => store.append('probe-1', [event('00000000-0000-4000-8000-000000000003')]).then(() => true));
    const types: string[] = [];
    for await (const stored of store.readStream('probe-1')) types.push(stored.type);
    expect(types.length).toBeGreaterThanOrEqual(2);
    // Nothing is left waiting: closing returns promptly.
    expect((await timed(() => store.close())).ms).toBeLessThan(SLACK_MS);
  });
});
