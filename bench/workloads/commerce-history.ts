/**
 * A consistent commerce history for the projection benchmarks, appended straight to the event
 * store (the command handler would make seeding a million events take minutes): PRODUCTS products
 * (listed, tracked, stocked), then orders, each placed → reserved and committed → payment
 * requested and authorized → confirmed, in causal order within each order. Six events per order in
 * four appends; writers own their orders, SKUs are shared (as in a real shop).
 */
import { randomUUID } from 'node:crypto';
import type { EventData, EventStore } from '../../src/eventstore/port.js';
import { itemsOf, runWorkers } from '../load.js';

export const PRODUCTS = 500;
export const EVENTS_PER_ORDER = 6;
const STOCK_PER_SKU = 1_000_000;
const DAY_MS = 86_400_000;
const START = Date.parse('2026-11-01T00:00:00.000Z');

const event = (type: string, data: Record<string, unknown>, timestamp: string, schemaVersion = 1): EventData => {
  const commandId = randomUUID();
  return {
    id: randomUUID(),
    type,
    data,
    schemaVersion,
    metadata: { commandId, correlationId: commandId, causationId: commandId, actor: 'bench', timestamp },
  };
};

const skuOf = (p: number): string => `BENCH-${p}`;
const productIdOf = (p: number): string => `bench-product-${p}`;
const priceOf = (p: number): number => 500 + (p % 97) * 25;

/** Lists, tracks and stocks every product: 3 events per product. */
export const seedCatalog = async (store: EventStore, concurrency: number): Promise<number> => {
  const at = new Date(START).toISOString();
  await runWorkers(concurrency, async (worker) => {
    for (const p of itemsOf(worker, concurrency, PRODUCTS)) {
      const productId = productIdOf(p);
      const sku = skuOf(p);
      await store.append(`product-${productId}`, [
        event('ProductListed', { productId, sku, name: `Bench product ${p}`, price: priceOf(p), currency: 'EUR' }, at),
      ]);
      await store.append(`inventory-${sku}`, [
        event('SkuTracked', { sku, productId }, at),
        event('StockReceived', { sku, quantity: STOCK_PER_SKU }, at),
      ]);
    }
  });
  return PRODUCTS * 3;
};

/** One order's six events, in four appends; returns the position of its last append. */
export const appendOrder = async (store: EventStore, n: number, onAppend?: (position: bigint) => void): Promise<bigint> => {
  const p = (n * 7919) % PRODUCTS;
  const sku = skuOf(p);
  const orderId = `bench-order-${n}-${randomUUID().slice(0, 8)}`;
  const paymentId = `bench-payment-${orderId.slice(12)}`;
  const quantity = 1 + (n % 3);
  const unitPrice = priceOf(p);
  const total = quantity * unitPrice;
  // Orders spread over 30 days, so daily sales has several rows per product.
  const atMs = START + (n % 30) * DAY_MS + (n % 86_400) * 1000;
  const at = new Date(atMs).toISOString();
  const expires = new Date(atMs + 900_000).toISOString();
  const appended: bigint[] = [];
  const append = async (stream: string, events: EventData[]): Promise<void> => {
    const { position } = await store.append(stream, events);
    onAppend?.(position);
    appended.push(position);
  };
  await append(`order-${orderId}`, [
    event('OrderPlaced', { orderId, customerId: `bench-customer-${n % 5_000}`, lines: [{ sku, quantity, unitPrice }], currency: 'EUR', total, placedAt: at }, at, 2),
  ]);
  await append(`payment-${paymentId}`, [
    event('PaymentRequested', { paymentId, orderId, amount: total, currency: 'EUR', requestedAt: at }, at),
    event('PaymentAuthorized', { paymentId, orderId, amount: total, currency: 'EUR', authorizationCode: 'BENCH-OK', authorizedAt: at }, at),
  ]);
  await append(`inventory-${sku}`, [
    event('StockReserved', { sku, orderId, quantity, expiresAt: expires, reservedAt: at }, at),
    event('StockCommitted', { sku, orderId, quantity, committedAt: at }, at),
  ]);
  await append(`order-${orderId}`, [event('OrderConfirmed', { orderId, paymentId, confirmedAt: at }, at)]);
  return appended.at(-1) ?? -1n;
};

/** Seeds the catalog and enough orders for at least `events` events in all; returns the count. */
export const seedCommerceHistory = async (store: EventStore, events: number, concurrency: number): Promise<number> => {
  const catalog = await seedCatalog(store, concurrency);
  const orders = Math.ceil(Math.max(0, events - catalog) / EVENTS_PER_ORDER);
  await runWorkers(concurrency, async (worker) => {
    for (const n of itemsOf(worker, concurrency, orders)) await appendOrder(store, n);
  });
  return catalog + orders * EVENTS_PER_ORDER;
};
