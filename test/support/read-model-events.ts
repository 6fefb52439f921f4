/**
 * Recorded events for read-model tests, built with readable helpers and numbered in order:
 * `history(listed('p1', 'SKU-1'), tracked('SKU-1', 'p1'), received('SKU-1', 10))` gives positions
 * 100, 200, 300 (gaps, as real positions have). Times default to 2026-11-23T10:00Z plus one minute
 * per event; pass `at` to pin one.
 */
import type { RecordedEvent } from '../../src/eventstore/port.js';

export interface EventSpec {
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly streamId: string;
  readonly schemaVersion?: number;
  /** ISO time of the event (metadata timestamp); defaults to the running clock of `history`. */
  readonly at?: string;
}

const BASE = Date.parse('2026-11-23T10:00:00.000Z');

/** Numbers events from `start` in steps of 100 (positions need not be dense). */
export const history = (...specs: readonly EventSpec[]): RecordedEvent[] => historyFrom(100n, ...specs);

export const historyFrom = (start: bigint, ...specs: readonly EventSpec[]): RecordedEvent[] =>
  specs.map((spec, i) => {
    const position = start + BigInt(i) * 100n;
    const timestamp = spec.at ?? new Date(BASE + Number(position / 100n) * 60_000).toISOString();
    return {
      id: `00000000-0000-4000-8000-${position.toString().padStart(12, '0')}`,
      streamId: spec.streamId,
      type: spec.type,
      data: spec.data,
      metadata: { commandId: `c${position}`, correlationId: 'corr', causationId: 'cause', actor: 'test', timestamp },
      schemaVersion: spec.schemaVersion ?? (spec.type === 'OrderPlaced' ? 2 : 1),
      revision: 0n,
      position,
      createdAt: new Date(timestamp),
    };
  });

const T = (iso?: string) => iso ?? '2026-11-23T10:00:00.000Z';

export const listed = (productId: string, sku: string, name = `Product ${productId}`, price = 1000, currency = 'EUR'): EventSpec => ({
  type: 'ProductListed',
  streamId: `product-${productId}`,
  data: { productId, sku, name, price, currency },
});
export const priceChanged = (productId: string, price: number, previousPrice: number): EventSpec => ({
  type: 'ProductPriceChanged',
  streamId: `product-${productId}`,
  data: { productId, price, previousPrice },
});
export const delisted = (productId: string, reason?: string): EventSpec => ({
  type: 'ProductDelisted',
  streamId: `product-${productId}`,
  data: reason === undefined ? { productId } : { productId, reason },
});
export const tracked = (sku: string, productId: string): EventSpec => ({
  type: 'SkuTracked',
  streamId: `inventory-${sku}`,
  data: { sku, productId },
});
export const received = (sku: string, quantity: number): EventSpec => ({
  type: 'StockReceived',
  streamId: `inventory-${sku}`,
  data: { sku, quantity },
});
export const reserved = (sku: string, orderId: string, quantity: number, at?: string): EventSpec => ({
  type: 'StockReserved',
  streamId: `inventory-${sku}`,
  data: { sku, orderId, quantity, reservedAt: T(at), expiresAt: '2026-11-23T23:00:00.000Z' },
  ...(at === undefined ? {} : { at }),
});
export const released = (sku: string, orderId: string, quantity: number, reason = 'order cancelled', at?: string): EventSpec => ({
  type: 'StockReleased',
  streamId: `inventory-${sku}`,
  data: { sku, orderId, quantity, reason, releasedAt: T(at) },
  ...(at === undefined ? {} : { at }),
});
export const committed = (sku: string, orderId: string, quantity: number, at?: string): EventSpec => ({
  type: 'StockCommitted',
  streamId: `inventory-${sku}`,
  data: { sku, orderId, quantity, committedAt: T(at) },
  ...(at === undefined ? {} : { at }),
});

export interface Line {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice: number;
}

export const placed = (orderId: string, customerId: string, lines: readonly Line[], at?: string, currency = 'EUR'): EventSpec => ({
  type: 'OrderPlaced',
  streamId: `order-${orderId}`,
  data: {
    orderId,
    customerId,
    lines,
    currency,
    total: lines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0),
    placedAt: T(at),
  },
  ...(at === undefined ? {} : { at }),
});
/** `OrderPlaced` as schema version 1 wrote it: `{ sku, qty, price: "19.99" }`, no currency, no total. */
export const placedV1 = (
  orderId: string,
  customerId: string,
  lines: readonly { sku: string; qty: number; price: string }[],
  at?: string,
): EventSpec => ({
  type: 'OrderPlaced',
  streamId: `order-${orderId}`,
  schemaVersion: 1,
  data: { orderId, customerId, lines, placedAt: T(at) },
});
export const confirmed = (orderId: string, at?: string): EventSpec => ({
  type: 'OrderConfirmed',
  streamId: `order-${orderId}`,
  data: { orderId, paymentId: orderId, confirmedAt: T(at) },
});
export const cancelled = (orderId: string, reason: string, at?: string): EventSpec => ({
  type: 'OrderCancelled',
  streamId: `order-${orderId}`,
  data: { orderId, reason, cancelledAt: T(at) },
});
export const paymentRequested = (orderId: string, amount: number, at?: string): EventSpec => ({
  type: 'PaymentRequested',
  streamId: `payment-${orderId}`,
  data: { paymentId: orderId, orderId, amount, currency: 'EUR', requestedAt: T(at) },
});
export const paymentAuthorized = (orderId: string, amount: number, at?: string): EventSpec => ({
  type: 'PaymentAuthorized',
  streamId: `payment-${orderId}`,
  data: { paymentId: orderId, orderId, amount, currency: 'EUR', authorizationCode: 'AUTH-1', authorizedAt: T(at) },
});
export const paymentFailed = (orderId: string, reason: string, at?: string): EventSpec => ({
  type: 'PaymentFailed',
  streamId: `payment-${orderId}`,
  data: { paymentId: orderId, orderId, reason, failedAt: T(at) },
});
export const paymentRefunded = (orderId: string, amount: number, reason = 'order cancelled', at?: string): EventSpec => ({
  type: 'PaymentRefunded',
  streamId: `payment-${orderId}`,
  data: { paymentId: orderId, orderId, amount, currency: 'EUR', reason, refundedAt: T(at) },
});
