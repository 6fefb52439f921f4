import { describe, expect, it } from 'vitest';
import { orderDecider } from '../../../src/commands/order/index.js';
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

const place = {
  type: 'PlaceOrder',
  data: {
    orderId: 'o-1',
    customerId: 'c-1',
    lines: placed.data.lines,
    currency: 'EUR',
    now,
  },
} as const;
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
