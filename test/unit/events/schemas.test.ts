import { describe, expect, it } from 'vitest';
import {
  EventDecodingError,
  eventRegistry,
  eventTypes,
  inventoryEventTypes,
  orderEventTypes,
  parseEvent,
  paymentEventTypes,
  productEventTypes,
} from '../../../src/events/index.js';
import type { EventType } from '../../../src/events/index.js';

const t = '2026-03-01T10:00:00.000Z';

/** One valid example per event type; the test below fails when a type is added without one. */
const examples: Record<string, unknown> = {
  ProductListed: { productId: 'p-1', sku: 'TSHIRT-M', name: 'T-shirt', price: 1999, currency: 'EUR' },
  ProductPriceChanged: { productId: 'p-1', price: 2499, previousPrice: 1999 },
  ProductDelisted: { productId: 'p-1' },
  SkuTracked: { sku: 'TSHIRT-M', productId: 'p-1' },
  StockReceived: { sku: 'TSHIRT-M', quantity: 10 },
  StockReserved: { sku: 'TSHIRT-M', orderId: 'o-1', quantity: 1, expiresAt: t, reservedAt: t },
  StockReleased: { sku: 'TSHIRT-M', orderId: 'o-1', quantity: 1, reason: 'expired', releasedAt: t },
  StockCommitted: { sku: 'TSHIRT-M', orderId: 'o-1', quantity: 1, committedAt: t },
  OrderPlaced: {
    orderId: 'o-1',
    customerId: 'c-1',
    lines: [{ sku: 'TSHIRT-M', quantity: 1, unitPrice: 1999 }],
    currency: 'EUR',
    total: 1999,
    placedAt: t,
  },
  OrderConfirmed: { orderId: 'o-1', paymentId: 'pay-1', confirmedAt: t },
  OrderCancelled: { orderId: 'o-1', reason: 'payment failed', cancelledAt: t },
  PaymentRequested: { paymentId: 'pay-1', orderId: 'o-1', amount: 1999, currency: 'EUR', requestedAt: t },
  PaymentAuthorized: {
    paymentId: 'pay-1',
    orderId: 'o-1',
    amount: 1999,
    currency: 'EUR',
    authorizationCode: 'A1',
    authorizedAt: t,
  },
  PaymentFailed: { paymentId: 'pay-1', orderId: 'o-1', reason: 'card_declined', failedAt: t },
  PaymentRefunded: {
    paymentId: 'pay-1',
    orderId: 'o-1',
    amount: 500,
    currency: 'EUR',
    reason: 'returned',
    refundedAt: t,
  },
};

describe('event schemas', () => {
  it('registers every aggregate’s events, each with a current version', () => {
    expect([...eventTypes].sort()).toEqual(
      [...productEventTypes, ...inventoryEventTypes, ...orderEventTypes, ...paymentEventTypes].sort(),
    );
    for (const type of eventTypes) expect(eventRegistry[type].version).toBeGreaterThanOrEqual(1);
  });

  it.each(eventTypes.map((type) => [type]))('accepts a valid %s at its current version', (type) => {
    const data = examples[type];
    expect(data, `add an example for ${type}`).toBeDefined();
    expect(parseEvent({ type, schemaVersion: eventRegistry[type].version, data })).toEqual({ type, data });
  });

  const invalid: [EventType, string, Record<string, unknown>][] = [
    ['ProductListed', 'a fractional price', { price: 19.99 }],
    ['ProductListed', 'a negative price', { price: -1 }],
    ['ProductListed', 'a lower-case currency', { currency: 'eur' }],
    ['ProductListed', 'an empty name', { name: '' }],
    ['ProductListed', 'a malformed id', { productId: 'p 1' }],
    ['StockReceived', 'a zero quantity', { quantity: 0 }],
    ['StockReceived', 'a fractional quantity', { quantity: 1.5 }],
    ['StockReserved', 'a time that is not ISO-8601', { expiresAt: 'tomorrow' }],
    ['OrderPlaced', 'no lines', { lines: [] }],
    ['OrderPlaced', 'a price as a decimal string (v1 shape)', { lines: [{ sku: 'A', quantity: 1, unitPrice: '19.99' }] }],
    ['OrderPlaced', 'a missing currency', { currency: undefined }],
    ['PaymentRequested', 'a zero amount', { amount: 0 }],
    ['PaymentRefunded', 'a missing reason', { reason: undefined }],
  ];
  it.each(invalid)('refuses %s with %s', (type, _what, change) => {
    const data = { ...(examples[type] as object), ...change };
    expect(() => parseEvent({ type, schemaVersion: eventRegistry[type].version, data })).toThrow(EventDecodingError);
  });

  it('returns data without unknown keys', () => {
    const event = parseEvent({ type: 'StockReceived', data: { sku: 'A', quantity: 1, extra: true } });
    expect(event.data).toEqual({ sku: 'A', quantity: 1 });
  });
});
