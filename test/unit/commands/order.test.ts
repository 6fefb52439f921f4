import { describe, expect, it } from 'vitest';
import { MAX_ORDER_TOTAL, orderDecider, parseOrderCommand } from '../../../src/commands/order/index.js';
import type { OrderCancelled, OrderConfirmed, OrderPlaced } from '../../../src/events/index.js';
import { spec } from '../../support/decider-spec.js';

const given = spec(orderDecider).given;
const now = '2026-03-01T10:00:00.000Z';
const later = '2026-03-01T10:05:00.000Z';

const placed: OrderPlaced = {
  type: 'OrderPlaced',
  data: {
    orderId: 'o-1',
    customerId: 'c-1',
    lines: [
      { sku: 'TSHIRT-M', quantity: 2, unitPrice: 1999 },
      { sku: 'MUG', quantity: 1, unitPrice: 850 },
    ],
    currency: 'EUR',
    total: 2 * 1999 + 850,
    placedAt: now,
  },
};
const confirmed: OrderConfirmed = {
  type: 'OrderConfirmed',
  data: { orderId: 'o-1', paymentId: 'pay-1', confirmedAt: later },
};
const cancelled: OrderCancelled = {
  type: 'OrderCancelled',
  data: { orderId: 'o-1', reason: 'customer changed their mind', cancelledAt: later },
};

const catalog = [
  { sku: 'TSHIRT-M', productId: 'p-shirt', listed: true, price: 1999, currency: 'EUR' },
  { sku: 'MUG', productId: 'p-mug', listed: true, price: 850, currency: 'EUR' },
] as const;

/** What the customer sent: no prices (the catalog's decide), unless a test quotes one. */
const place = {
  type: 'PlaceOrder',
  data: {
    orderId: 'o-1',
    customerId: 'c-1',
    lines: [{ sku: 'TSHIRT-M', quantity: 2 }, { sku: 'MUG', quantity: 1 }],
    catalog,
    now,
  },
} as const;
/** PlaceOrder with some fields changed, through the command schema (as the write side builds it). */
const placeWith = (change: Readonly<Record<string, unknown>>) => parseOrderCommand({ ...place, data: { ...place.data, ...change } });
const confirm = { type: 'ConfirmOrder', data: { orderId: 'o-1', paymentId: 'pay-1', now: later } } as const;
const cancel = {
  type: 'CancelOrder',
  data: { orderId: 'o-1', reason: 'customer changed their mind', now: later },
} as const;

describe('order decider', () => {
  describe('PlaceOrder', () => {
    it('places the order with its total computed in minor units', () => {
      given([]).when(place).then([placed]);
    });
    it('prices the lines from the catalog, never from the client', () => {
      given([]).when(placeWith({ lines: [{ sku: 'TSHIRT-M', quantity: 2, unitPrice: 1999 }, { sku: 'MUG', quantity: 1, unitPrice: 850 }], currency: 'EUR' })).then([placed]);
    });
    it('regression: a customer set their own price (3 × 1 JPY for a 2999 EUR kettle) — refused with the current price', () => {
      const kettle = [{ sku: 'KETTLE', productId: 'p-kettle', listed: true, price: 2999, currency: 'EUR' }];
      given([]).when(placeWith({ lines: [{ sku: 'KETTLE', quantity: 3, unitPrice: 1 }], currency: 'JPY', catalog: kettle }))
        .thenThrows('KEEL_ERR_PRICE_CHANGED', { sku: 'KETTLE', sentPrice: 1, currentPrice: 2999, currency: 'EUR' });
      given([]).when(placeWith({ lines: [{ sku: 'KETTLE', quantity: 3 }], currency: 'JPY', catalog: kettle }))
        .thenThrows('KEEL_ERR_CURRENCY_MISMATCH', { currency: 'EUR', sentCurrency: 'JPY' });
    });
    it('a price that changed while the customer looked: refused, every changed line with its current price', () => {
      given([]).when(placeWith({ lines: [{ sku: 'TSHIRT-M', quantity: 2, unitPrice: 1799 }, { sku: 'MUG', quantity: 1, unitPrice: 800 }] }))
        .thenThrows('KEEL_ERR_PRICE_CHANGED', {
          sku: 'TSHIRT-M', sentPrice: 1799, currentPrice: 1999, currency: 'EUR',
          lines: [
            { sku: 'TSHIRT-M', sentPrice: 1799, currentPrice: 1999, currency: 'EUR' },
            { sku: 'MUG', sentPrice: 800, currentPrice: 850, currency: 'EUR' },
          ],
        });
    });
    it('refuses products priced in different currencies in one order', () => {
      const mixed = [catalog[0], { ...catalog[1], currency: 'USD' }];
      given([]).when(placeWith({ catalog: mixed })).thenThrows('KEEL_ERR_CURRENCY_MISMATCH', { currencies: ['EUR', 'USD'] });
    });
    it('regression: a delisted (recalled) product could still be ordered — refused', () => {
      const recalled = [catalog[0], { ...catalog[1], listed: false }];
      given([]).when(placeWith({ catalog: recalled })).thenThrows('KEEL_ERR_PRODUCT_DELISTED', { sku: 'MUG', productId: 'p-mug' });
    });
    it('refuses a line whose SKU the catalog did not price', () => {
      given([]).when(placeWith({ catalog: [catalog[0]] })).thenThrows('KEEL_ERR_UNKNOWN_SKU', { sku: 'MUG' });
    });
    it('regression: an order no payment accepts held stock — a total of 0 is refused', () => {
      const free = [{ ...catalog[0], price: 0 }, { ...catalog[1], price: 0 }];
      given([]).when(placeWith({ catalog: free })).thenThrows('KEEL_ERR_ORDER_TOTAL_OUT_OF_RANGE', { total: 0, min: 1, max: MAX_ORDER_TOTAL });
    });
    it('regression: an order no payment accepts held stock — a total above the largest payment is refused', () => {
      const dear = [{ ...catalog[0], price: MAX_ORDER_TOTAL }];
      given([]).when(placeWith({ lines: [{ sku: 'TSHIRT-M', quantity: 2 }], catalog: dear }))
        .thenThrows('KEEL_ERR_ORDER_TOTAL_OUT_OF_RANGE', { total: 2 * MAX_ORDER_TOTAL, max: MAX_ORDER_TOTAL });
      given([]).when(placeWith({ lines: [{ sku: 'TSHIRT-M', quantity: 1 }], catalog: dear })).then([
        { type: 'OrderPlaced', data: { ...placed.data, lines: [{ sku: 'TSHIRT-M', quantity: 1, unitPrice: MAX_ORDER_TOTAL }], total: MAX_ORDER_TOTAL } },
      ]);
    });
    it('refuses an order id that was already placed', () => {
      given([placed]).when(place).thenThrows('KEEL_ERR_ORDER_ALREADY_PLACED', { orderId: 'o-1' });
    });
    it('refuses an order id that was placed and cancelled', () => {
      given([placed, cancelled]).when(place).thenThrows('KEEL_ERR_ORDER_ALREADY_PLACED');
    });
  });

  describe('ConfirmOrder', () => {
    it('confirms a pending order', () => {
      given([placed]).when(confirm).then([confirmed]);
    });
    it('refuses an order that does not exist', () => {
      given([]).when(confirm).thenThrows('KEEL_ERR_ORDER_NOT_FOUND');
    });
    it('refuses an order already confirmed', () => {
      given([placed, confirmed]).when(confirm).thenThrows('KEEL_ERR_ORDER_NOT_PENDING');
    });
    it('refuses a cancelled order', () => {
      given([placed, cancelled]).when(confirm).thenThrows('KEEL_ERR_ORDER_ALREADY_CANCELLED');
    });
  });

  describe('CancelOrder', () => {
    it('cancels a pending order', () => {
      given([placed]).when(cancel).then([cancelled]);
    });
    it('refuses an order that does not exist', () => {
      given([]).when(cancel).thenThrows('KEEL_ERR_ORDER_NOT_FOUND');
    });
    it('refuses an order already cancelled', () => {
      given([placed, cancelled]).when(cancel).thenThrows('KEEL_ERR_ORDER_ALREADY_CANCELLED');
    });
    it('refuses a confirmed order', () => {
      given([placed, confirmed]).when(cancel).thenThrows('KEEL_ERR_ORDER_NOT_PENDING');
    });
  });

  describe('evolve', () => {
    it('shows the order as the customer sees it', () => {
      const state = [placed, confirmed].reduce(orderDecider.evolve, orderDecider.initialState());
      expect(state).toMatchObject({ status: 'confirmed', total: 4848, paymentId: 'pay-1', placedAt: now });
    });
  });
});
