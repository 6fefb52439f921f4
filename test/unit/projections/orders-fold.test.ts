/** The orders read model's fold, without a database: given loaded orders and a batch, what it changes. */
import { describe, expect, it } from 'vitest';
import { foldOrders, ORDERS_EVENT_TYPES } from '../../../src/projections/read-models/orders/fold.js';
import type { OrderState } from '../../../src/projections/read-models/orders/fold.js';
import { decodeBatch } from '../../../src/projections/read-models/support/events.js';
import type { EventSpec } from '../../support/read-model-events.js';
import { confirmed, historyFrom, paymentAuthorized, paymentRequested, placed, reserved } from '../../support/read-model-events.js';

const batch = (start: bigint, ...specs: readonly EventSpec[]) => decodeBatch(ORDERS_EVENT_TYPES, historyFrom(start, ...specs));
const AT = '2026-11-23T10:00:00.000Z';

const o1: OrderState = {
  orderId: 'o1',
  customerId: 'c1',
  status: 'pending',
  currency: 'EUR',
  total: 1000,
  placedAt: AT,
  confirmedAt: null,
  cancelledAt: null,
  cancelReason: null,
  payment: { paymentId: 'o1', status: 'requested', amount: 1000, refunded: 0, failureReason: null },
  lines: [{ lineNo: 0, sku: 'A', quantity: 2, unitPrice: 500, stockStatus: 'reserved' }],
  placedPosition: 100n,
  position: 300n,
};

const history = [placed('o1', 'c1', [{ sku: 'A', quantity: 2, unitPrice: 500 }]), paymentRequested('o1', 1000), reserved('A', 'o1', 2)];

describe('orders fold', () => {
  it('folds an order from its placement, with one timeline row per event', () => {
    expect(foldOrders(new Map(), batch(100n, ...history))).toEqual({
      orders: [o1],
      timeline: [
        { orderId: 'o1', position: 100n, eventType: 'OrderPlaced', occurredAt: AT, detail: { total: 1000, currency: 'EUR', lines: 1 } },
        { orderId: 'o1', position: 200n, eventType: 'PaymentRequested', occurredAt: AT, detail: { paymentId: 'o1', amount: 1000, currency: 'EUR' } },
        { orderId: 'o1', position: 300n, eventType: 'StockReserved', occurredAt: AT, detail: { sku: 'A', quantity: 2 } },
      ],
    });
  });

  it("skips an event at or below a row's updated_position", () => {
    const rows = new Map([['o1', o1]]);
    expect(foldOrders(rows, batch(100n, ...history))).toEqual({ orders: [], timeline: [] });
    const at = '2026-11-23T11:00:00.000Z';
    expect(foldOrders(rows, batch(100n, ...history, paymentAuthorized('o1', 1000, at), confirmed('o1', at)))).toEqual({
      orders: [{ ...o1, status: 'confirmed', confirmedAt: at, payment: { ...o1.payment, status: 'authorized' }, position: 500n }],
      timeline: [
        { orderId: 'o1', position: 400n, eventType: 'PaymentAuthorized', occurredAt: at, detail: { paymentId: 'o1', amount: 1000, currency: 'EUR' } },
        { orderId: 'o1', position: 500n, eventType: 'OrderConfirmed', occurredAt: at, detail: { paymentId: 'o1' } },
      ],
    });
    expect(rows.get('o1')).toEqual(o1);
  });

  it('ignores the payment and stock events of an order never placed', () => {
    expect(foldOrders(new Map(), batch(100n, paymentRequested('o9', 10), reserved('A', 'o9', 1)))).toEqual({ orders: [], timeline: [] });
  });
});
