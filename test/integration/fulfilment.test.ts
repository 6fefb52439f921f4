import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryAggregate, orderAggregate, paymentAggregate } from '../../src/commands/aggregates.js';
import { startFulfilment, type FulfilmentRunner } from '../../src/commands/fulfilment/runner.js';
import { inventoryStreamId } from '../../src/commands/inventory/index.js';
import { orderStreamId } from '../../src/commands/order/index.js';
import { FakePaymentProvider } from '../../src/commands/payment/index.js';
import { paymentStreamId } from '../../src/commands/payment/index.js';
import { at, commandsOn, countEvents, openWriteSide, type WriteSide } from '../support/write-side.js';

const silent = { info: () => {}, warn: () => {}, error: () => {} };
const TTL_MS = 15 * 60_000;

describe('order fulfilment process manager (real PostgreSQL)', () => {
  let side: WriteSide;
  let clock = new Date('2026-11-23T10:00:00.000Z');
  let decline = false;
  const gates: (() => void)[] = [];
  let holdPayments = false;
  const provider = new FakePaymentProvider({
    latencyMs: 1,
    failureRate: 0.5,
    random: () => (decline ? 0 : 0.99),
    sleep: () => (holdPayments ? new Promise<void>((resolve) => gates.push(resolve)) : Promise.resolve()),
  });
  let runner: FulfilmentRunner;
  const start = () => {
    const { handler, commerce } = commandsOn(side.store);
    return startFulfilment({
      store: side.store, db: side.handle.db, handler, commerce, provider, logger: silent,
      clock: () => clock, reservationTtlMs: TTL_MS, checkpointIntervalMs: 20, sweepIntervalMs: 20,
    });
  };
  const api = () => commandsOn(side.store);
  const now = () => at(clock.toISOString());

  const orderState = async (orderId: string) => (await api().handler.load(orderAggregate, orderStreamId(orderId))).state;
  const stock = async (sku: string) => {
    const { state } = await api().handler.load(inventoryAggregate, inventoryStreamId(sku));
    if (state.status !== 'tracked') throw new Error(`${sku} untracked`);
    return { received: state.received, reserved: state.reserved, sold: state.sold };
  };
  const until = async (what: string, check: () => Promise<boolean>, ms = 15_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const statusOf = (orderId: string, status: string) => async () => (await orderState(orderId)).status === status;

  beforeAll(async () => {
    side = await openWriteSide('fulfilment');
    const { commerce } = api();
    for (const sku of ['A', 'B', 'C']) {
      await commerce.listProduct({ productId: `p-${sku}`, sku, name: sku, price: 500, currency: 'EUR' }, now());
      await commerce.receiveStock({ sku, quantity: 10 }, now());
    }
    runner = await start();
  });
  afterAll(async () => {
    await runner.stop();
    await side.close();
  });

  const place = (orderId: string, lines: { sku: string; quantity: number }[]) =>
    api().commerce.placeOrder({ orderId, customerId: 'c1', currency: 'EUR', lines: lines.map((l) => ({ ...l, unitPrice: 500 })) }, now());

  it('placed → reserved → paid → confirmed, with the stock committed', async () => {
    await place('o1', [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }]);
    await until('o1 confirmed', statusOf('o1', 'confirmed'));
    await until('stock committed', async () => (await stock('A')).sold === 2 && (await stock('B')).sold === 1);
    expect(await stock('A')).toEqual({ received: 10, reserved: 0, sold: 2 });
    const { state: payment } = await api().handler.load(paymentAggregate, paymentStreamId('o1'));
    expect(payment.status).toBe('authorized');
  });

  it('a refused reservation cancels the order and releases the lines that were reserved', async () => {
    await place('o2', [{ sku: 'C', quantity: 3 }, { sku: 'B', quantity: 50 }]);
    await until('o2 cancelled', statusOf('o2', 'cancelled'));
    const order = await orderState('o2');
    expect(order.status === 'cancelled' && order.reason).toContain('KEEL_ERR_OUT_OF_STOCK');
    await until('C released', async () => (await stock('C')).reserved === 0);
    expect(await stock('C')).toEqual({ received: 10, reserved: 0, sold: 0 });
  });

  it('a declined payment cancels the order and releases its stock', async () => {
    decline = true;
    await place('o3', [{ sku: 'C', quantity: 4 }]);
    await until('o3 cancelled', statusOf('o3', 'cancelled'));
    decline = false;
    await until('C released', async () => (await stock('C')).reserved === 0);
    const { state: payment } = await api().handler.load(paymentAggregate, paymentStreamId('o3'));
    expect(payment.status).toBe('failed');
  });

  it('an order whose payment does not come back in time expires: cancelled, released, refunded if paid late', async () => {
    holdPayments = true;
    await place('o4', [{ sku: 'C', quantity: 5 }]);
    await until('C reserved', async () => (await stock('C')).reserved === 5);
    clock = new Date(clock.getTime() + TTL_MS + 1_000);
    await until('o4 cancelled', statusOf('o4', 'cancelled'));
    await until('C released', async () => (await stock('C')).reserved === 0);
    holdPayments = false;
    for (const open of gates.splice(0)) open();
    await until('late payment refunded', async () => {
      const { state } = await api().handler.load(paymentAggregate, paymentStreamId('o4'));
      return state.status === 'refunded';
    });
    expect(await stock('C')).toEqual({ received: 10, reserved: 0, sold: 0 });
  });

  it('restart-safe: replaying from an old checkpoint repeats no step (no new events, no second charge)', async () => {
    const head = await side.store.headPosition();
    await until('caught up', async () => runner.position() >= head);
    await runner.stop();
    const events = await countEvents(side);
    const charges = provider.charges;
    await side.handle.db.withTables<{ keel_process_checkpoints: { name: string; position: string } }>()
      .updateTable('keel_process_checkpoints').set({ position: '0' }).where('name', '=', 'order-fulfilment').execute();
    runner = await start();
    await until('caught up again', async () => runner.position() >= head);
    await new Promise((r) => setTimeout(r, 200));
    expect(await countEvents(side)).toBe(events);
    expect(provider.charges).toBe(charges);
    expect((await orderState('o1')).status).toBe('confirmed');
  });
});
