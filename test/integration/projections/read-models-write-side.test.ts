/**
 * The read models against the real write side: commerce commands and the order-fulfilment process
 * manager on the PostgreSQL event store write a small story, then every event of `$all` is applied
 * to the four projections (each given only its event types, in batches, as the engine would) and
 * the rows must tell the same story.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderAggregate } from '../../../src/commands/aggregates.js';
import { startFulfilment } from '../../../src/commands/fulfilment/runner.js';
import { orderStreamId } from '../../../src/commands/order/index.js';
import { FakePaymentProvider } from '../../../src/commands/payment/index.js';
import type { RecordedEvent } from '../../../src/eventstore/port.js';
import { liveSchemaOf } from '../../../src/projections/projection.js';
import { getAvailability, getProduct, listProducts } from '../../../src/projections/read-models/catalog/index.js';
import { dailySales } from '../../../src/projections/read-models/daily-sales/index.js';
import { getFlashSaleBoard } from '../../../src/projections/read-models/flash-sale/index.js';
import { readModels } from '../../../src/projections/read-models/index.js';
import { getOrder, listOrdersOfCustomer } from '../../../src/projections/read-models/orders/index.js';
import { applyBatches, resetSchema } from '../../support/projection-spec.js';
import { at, commandsOn, countEvents, openWriteSide, type WriteSide } from '../../support/write-side.js';

const silent = { info: () => {}, warn: () => {}, error: () => {} };
const NOW = '2026-11-23T10:00:00.000Z';

describe('read models fed by the real write side', () => {
  let side: WriteSide;
  let decline = false;

  const until = async (what: string, check: () => Promise<boolean>, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(async () => {
    side = await openWriteSide('rm_write_side');
    const { handler, commerce } = commandsOn(side.store);
    const provider = new FakePaymentProvider({ latencyMs: 1, failureRate: 0.5, random: () => (decline ? 0 : 0.99), sleep: () => Promise.resolve() });
    const runner = await startFulfilment({
      store: side.store, db: side.handle.db, handler, commerce, provider, logger: silent,
      clock: () => new Date(NOW), reservationTtlMs: 15 * 60_000, checkpointIntervalMs: 20, sweepIntervalMs: 1_000,
    });
    const now = at(NOW);
    const statusIs = (orderId: string, status: string) => async () =>
      (await commandsOn(side.store).handler.load(orderAggregate, orderStreamId(orderId), { fresh: true })).state.status === status;
    try {
      await commerce.listProduct({ productId: 'p-mug', sku: 'MUG', name: 'Mug', price: 1500, currency: 'EUR' }, now);
      await commerce.listProduct({ productId: 'p-hat', sku: 'HAT', name: 'Hat', price: 800, currency: 'EUR' }, now);
      await commerce.receiveStock({ sku: 'MUG', quantity: 20 }, now);
      await commerce.receiveStock({ sku: 'HAT', quantity: 5 }, now);
      // o1: paid and confirmed; its stock is committed.
      await commerce.placeOrder({ orderId: 'o1', customerId: 'c1', currency: 'EUR', lines: [{ sku: 'MUG', quantity: 2, unitPrice: 1500 }, { sku: 'HAT', quantity: 1, unitPrice: 800 }] }, now);
      await until('o1 confirmed', statusIs('o1', 'confirmed'));
      // o2: more hats than there are: cancelled, nothing reserved.
      await commerce.placeOrder({ orderId: 'o2', customerId: 'c1', currency: 'EUR', lines: [{ sku: 'HAT', quantity: 10, unitPrice: 800 }] }, now);
      await until('o2 cancelled', statusIs('o2', 'cancelled'));
      // o3: the payment is declined: cancelled, its mug released.
      decline = true;
      await commerce.placeOrder({ orderId: 'o3', customerId: 'c2', currency: 'EUR', lines: [{ sku: 'MUG', quantity: 1, unitPrice: 1500 }] }, now);
      await until('o3 cancelled', statusIs('o3', 'cancelled'));
      decline = false;
      await commerce.changePrice({ productId: 'p-mug', price: 1400 }, now);
      await until('fulfilment caught up', async () => runner.position() >= (await side.store.headPosition()));
      // Every step is written (the release of o3 and the commits of o1 follow the status changes).
      await until('the story to settle', async () => {
        const all = await readAllEvents();
        const count = (type: string) => all.filter((e) => e.type === type).length;
        return count('StockCommitted') === 2 && count('StockReleased') === 1;
      });
    } finally {
      await runner.stop();
    }
    const events = await readAllEvents();
    expect(events).toHaveLength(await countEvents(side));
    for (const projection of readModels) {
      await resetSchema(side.handle.db, projection, liveSchemaOf(projection.name));
      const mine = events.filter((e) => projection.eventTypes.includes(e.type));
      await applyBatches(side.handle.db, projection, mine, { batchSize: 7 });
    }
  });
  afterAll(async () => {
    await side.close();
  });

  const readAllEvents = async (): Promise<RecordedEvent[]> => {
    const out: RecordedEvent[] = [];
    for await (const event of side.store.readAll()) out.push(event);
    return out;
  };

  it('catalog: listed products with current prices and live availability', async () => {
    const db = side.handle.db;
    expect(await getProduct(db, 'p-mug')).toMatchObject({ name: 'Mug', price: 1400, status: 'listed', available: 18 });
    expect(await getAvailability(db, 'MUG')).toMatchObject({ productId: 'p-mug', received: 20, reserved: 0, sold: 2, available: 18 });
    expect(await getAvailability(db, 'HAT')).toMatchObject({ received: 5, reserved: 0, sold: 1, available: 4 });
    expect((await listProducts(db)).items.map((p) => [p.productId, p.price])).toEqual([
      ['p-hat', 800],
      ['p-mug', 1400],
    ]);
  });

  it('orders: confirmed, cancelled for stock, cancelled for payment, each with its timeline', async () => {
    const db = side.handle.db;
    const o1 = await getOrder(db, 'o1');
    expect(o1).toMatchObject({
      customerId: 'c1',
      status: 'confirmed',
      paymentStatus: 'authorized',
      total: 3800,
      lines: [
        { sku: 'MUG', quantity: 2, stockStatus: 'committed' },
        { sku: 'HAT', quantity: 1, stockStatus: 'committed' },
      ],
    });
    const types = o1?.timeline.map((t) => t.eventType) ?? [];
    expect(types[0]).toBe('OrderPlaced');
    expect([...types].sort()).toEqual(
      ['OrderPlaced', 'StockReserved', 'StockReserved', 'PaymentRequested', 'PaymentAuthorized', 'OrderConfirmed', 'StockCommitted', 'StockCommitted'].sort(),
    );
    expect(types.indexOf('PaymentAuthorized')).toBeLessThan(types.indexOf('OrderConfirmed'));
    const positions = o1?.timeline.map((t) => t.position) ?? [];
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));

    const o2 = await getOrder(db, 'o2');
    expect(o2).toMatchObject({ status: 'cancelled', paymentStatus: 'none' });
    expect(o2?.cancelReason).toContain('KEEL_ERR_OUT_OF_STOCK');
    expect(await getOrder(db, 'o3')).toMatchObject({
      status: 'cancelled',
      paymentStatus: 'failed',
      lines: [{ sku: 'MUG', stockStatus: 'released' }],
    });
    expect((await listOrdersOfCustomer(db, 'c1')).items.map((o) => [o.orderId, o.status])).toEqual([
      ['o2', 'cancelled'],
      ['o1', 'confirmed'],
    ]);
  });

  it('flash-sale board: units left, sold and the last sale', async () => {
    expect(await getFlashSaleBoard(side.handle.db, { sku: 'MUG' })).toMatchObject([
      { unitsLeft: 18, reserved: 0, sold: 2, lastSale: { orderId: 'o1', quantity: 2, at: NOW } },
    ]);
  });

  it('daily sales: only the confirmed order’s committed lines, at its prices', async () => {
    expect((await dailySales(side.handle.db, { from: '2026-11-23', to: '2026-11-23' })).map((r) => [r.productId, r.units, r.revenue])).toEqual([
      ['p-hat', 1, 800],
      ['p-mug', 2, 3000],
    ]);
  });
});
