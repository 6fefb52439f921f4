/**
 * The real server process (`src/main.ts`, which runs the order fulfilment process manager) is
 * SIGKILLed at random moments while orders arrive, and restarted. In the end every order must be
 * confirmed, and the event log must show every step exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderAggregate } from '../../../src/commands/aggregates.js';
import { orderStreamId } from '../../../src/commands/order/index.js';
import { openDatabase } from '../../../src/platform/database.js';
import { openEventStore } from '../../../src/eventstore/open.js';
import type { EventStore, RecordedEvent } from '../../../src/eventstore/port.js';
import type { DatabaseHandle } from '../../../src/platform/database.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { spawnKeel, type KeelProcess } from '../../support/keel-process.js';
import { at, commandsOn } from '../../support/write-side.js';

const SKUS = ['K1', 'K2', 'K3'];
const ROUNDS = 6;
const ORDERS_PER_ROUND = 30;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('order fulfilment survives SIGKILL of the server process', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  let store: EventStore;
  const startKeel = async (): Promise<KeelProcess> => {
    const keel = spawnKeel({
      DATABASE_URL: database.url, PORT: '0', LOG_LEVEL: 'info',
      PAYMENT_FAKE_FAILURE_RATE: '0', PAYMENT_FAKE_LATENCY_MS: '2',
    });
    await keel.waitForUrl(60_000);
    return keel;
  };

  beforeAll(async () => {
    database = await createTestDatabase('fulfilment_crash');
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    store = await openEventStore(handle);
    const { commerce } = commandsOn(store);
    for (const sku of SKUS) {
      await commerce.listProduct({ productId: `p-${sku}`, sku, name: sku, price: 250, currency: 'EUR' }, at());
      await commerce.receiveStock({ sku, quantity: 10_000 }, at());
    }
  });
  afterAll(async () => {
    await store.close();
    await handle.close();
    await database.drop();
  });

  it('every order ends confirmed, and no step was done twice', async () => {
    const { commerce } = commandsOn(store);
    const orderIds: string[] = [];
    const unfinished = async (ids: readonly string[]) => {
      const reader = commandsOn(store).handler; // a fresh handler: its cache must not hide progress
      const states = await Promise.all(ids.map((id) => reader.load(orderAggregate, orderStreamId(id))));
      return ids.filter((_, i) => states[i]?.state.status === 'pending');
    };
    let interruptedRounds = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const keel = await startKeel();
      const placing = Array.from({ length: ORDERS_PER_ROUND }, (_, i) => {
        const orderId = `o-${round}-${i}`;
        orderIds.push(orderId);
        const lines = SKUS.slice(0, 1 + (i % SKUS.length)).map((sku) => ({ sku, quantity: 1 + (i % 3), unitPrice: 250 }));
        return commerce.placeOrder({ orderId, customerId: `c-${i}`, currency: 'EUR', lines }, at(new Date().toISOString()));
      });
      await Promise.all(placing);
      await sleep(50 + Math.floor(Math.random() * 600));
      keel.child.kill('SIGKILL');
      expect((await keel.exited(10_000)).signal).toBe('SIGKILL');
      if ((await unfinished(orderIds.slice(-ORDERS_PER_ROUND))).length > 0) interruptedRounds++;
    }
    // The kills must have hit work in progress, or this test proves nothing.
    expect(interruptedRounds).toBeGreaterThan(0);

    const keel = await startKeel();
    const deadline = Date.now() + 120_000;
    let pending = orderIds;
    while (pending.length > 0 && Date.now() < deadline) {
      pending = await unfinished(pending);
      if (pending.length > 0) await sleep(250);
    }
    keel.child.kill('SIGTERM');
    await keel.exited(15_000);
    expect(pending).toEqual([]);

    const events: RecordedEvent[] = [];
    for await (const event of store.readAll()) events.push(event);
    const count = (type: string, key: (e: RecordedEvent) => string) => {
      const counts = new Map<string, number>();
      for (const e of events) if (e.type === type) counts.set(key(e), (counts.get(key(e)) ?? 0) + 1);
      return counts;
    };
    const dataOf = (e: RecordedEvent) => e.data as { orderId: string; sku?: string };
    const perOrder = (type: string) => count(type, (e) => dataOf(e).orderId);
    const perLine = (type: string) => count(type, (e) => `${dataOf(e).orderId}/${dataOf(e).sku ?? ''}`);
    const ones = (map: Map<string, number>) => [...map.values()].every((n) => n === 1);

    expect(perOrder('OrderConfirmed').size).toBe(orderIds.length);
    expect(ones(perOrder('OrderConfirmed'))).toBe(true);
    expect(perOrder('OrderCancelled').size).toBe(0);
    for (const type of ['PaymentRequested', 'PaymentAuthorized']) {
      expect(perOrder(type).size).toBe(orderIds.length);
      expect(ones(perOrder(type))).toBe(true);
    }
    expect(perOrder('PaymentRefunded').size).toBe(0);
    const lines = perLine('StockReserved');
    expect(ones(lines)).toBe(true);
    expect(perLine('StockCommitted')).toEqual(lines);
    expect(perLine('StockReleased').size).toBe(0);
  });
});
