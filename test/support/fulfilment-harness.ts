/**
 * The order-fulfilment process manager on a test write side, with the knobs its tests turn: a
 * settable clock, a fake payment provider that can decline or hold payments, and helpers to place
 * orders and read order, payment and stock state. Used by fulfilment.test.ts (PostgreSQL),
 * esdb-fulfilment.test.ts (EventStoreDB adapter, checkpoint in PostgreSQL) and
 * http-payment-fulfilment.test.ts (another provider passed to `start`).
 */
import { inventoryAggregate, orderAggregate, paymentAggregate } from '../../src/commands/aggregates.js';
import type { CommerceCommands } from '../../src/commands/front-door.js';
import { startFulfilment, type FulfilmentOptions, type FulfilmentRunner } from '../../src/commands/fulfilment/runner.js';
import { inventoryStreamId } from '../../src/commands/inventory/index.js';
import { orderStreamId } from '../../src/commands/order/index.js';
import { FakePaymentProvider, paymentStreamId } from '../../src/commands/payment/index.js';
import { at, commandsOn, type WriteSide } from './write-side.js';

const silent = { info: () => {}, warn: () => {}, error: () => {} };
export const TTL_MS = 15 * 60_000;

export const createFulfilmentHarness = (side: WriteSide) => {
  const gates: (() => void)[] = [];
  const knobs = { clock: new Date('2026-11-23T10:00:00.000Z'), decline: false, holdPayments: false };
  const provider = new FakePaymentProvider({
    latencyMs: 1,
    failureRate: 0.5,
    random: () => (knobs.decline ? 0 : 0.99),
    sleep: () => (knobs.holdPayments ? new Promise<void>((resolve) => gates.push(resolve)) : Promise.resolve()),
  });
  const api = () => commandsOn(side.store);
  const now = () => at(knobs.clock.toISOString());
  /**
   * `wrap` may stand in for some of the commands the process manager sends (to make them fail);
   * `overrides` replaces options (another provider, a logger, `maxAttempts`).
   */
  const start = (
    wrap: (commerce: CommerceCommands) => CommerceCommands = (c) => c,
    overrides: Partial<Pick<FulfilmentOptions, 'provider' | 'logger' | 'maxAttempts'>> = {},
  ): Promise<FulfilmentRunner> => {
    const { handler, commerce } = api();
    return startFulfilment({
      store: side.store, db: side.handle.db, handler, commerce: wrap(commerce), provider, logger: silent,
      clock: () => knobs.clock, reservationTtlMs: TTL_MS, checkpointIntervalMs: 20, sweepIntervalMs: 20,
      ...overrides,
    });
  };
  const orderState = async (orderId: string) => (await api().handler.load(orderAggregate, orderStreamId(orderId))).state;
  const paymentState = async (orderId: string) => (await api().handler.load(paymentAggregate, paymentStreamId(orderId))).state;
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
  const place = (orderId: string, lines: { sku: string; quantity: number }[]) =>
    api().commerce.placeOrder({ orderId, customerId: 'c1', currency: 'EUR', lines: lines.map((l) => ({ ...l, unitPrice: 500 })) }, now());
  /** Lists products with these SKUs and receives 10 units of each. */
  const stockUp = async (skus: readonly string[]) => {
    const { commerce } = api();
    for (const sku of skus) {
      await commerce.listProduct({ productId: `p-${sku}`, sku, name: sku, price: 500, currency: 'EUR' }, now());
      await commerce.receiveStock({ sku, quantity: 10 }, now());
    }
  };
  return { knobs, gates, provider, api, now, start, orderState, paymentState, stock, until, statusOf, place, stockUp };
};

export type FulfilmentHarness = ReturnType<typeof createFulfilmentHarness>;
