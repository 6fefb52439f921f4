import { describe, expect, it } from 'vitest';
import { paymentDecider } from '../../../src/commands/payment/index.js';
import type { PaymentAuthorized, PaymentFailed, PaymentRefunded, PaymentRequested } from '../../../src/events/index.js';
import { spec } from '../../support/decider-spec.js';

const given = spec(paymentDecider).given;
const t0 = '2026-03-01T10:00:00.000Z';
const t1 = '2026-03-01T10:00:02.000Z';
const t2 = '2026-03-02T09:00:00.000Z';

const requested: PaymentRequested = {
  type: 'PaymentRequested',
  data: { paymentId: 'pay-1', orderId: 'o-1', amount: 4848, currency: 'EUR', requestedAt: t0 },
};
const authorized: PaymentAuthorized = {
  type: 'PaymentAuthorized',
  data: {
    paymentId: 'pay-1',
    orderId: 'o-1',
    amount: 4848,
    currency: 'EUR',
    authorizationCode: 'AUTH-1',
    authorizedAt: t1,
  },
};
const failed: PaymentFailed = {
  type: 'PaymentFailed',
  data: { paymentId: 'pay-1', orderId: 'o-1', reason: 'card_declined', failedAt: t1 },
};
const refunded = (amount: number): PaymentRefunded => ({
  type: 'PaymentRefunded',
  data: { paymentId: 'pay-1', orderId: 'o-1', amount, currency: 'EUR', reason: 'returned', refundedAt: t2 },
});

const request = {
  type: 'RequestPayment',
  data: { paymentId: 'pay-1', orderId: 'o-1', amount: 4848, currency: 'EUR', now: t0 },
} as const;
const authorize = {
  type: 'AuthorizePayment',
  data: { paymentId: 'pay-1', authorizationCode: 'AUTH-1', now: t1 },
} as const;
const fail = { type: 'FailPayment', data: { paymentId: 'pay-1', reason: 'card_declined', now: t1 } } as const;
const refund = (amount: number) =>
  ({ type: 'RefundPayment', data: { paymentId: 'pay-1', amount, reason: 'returned', now: t2 } }) as const;

describe('payment decider', () => {
  describe('RequestPayment', () => {
    it('requests a payment', () => {
      given([]).when(request).then([requested]);
    });
    it('refuses a payment id already requested', () => {
      given([requested]).when(request).thenThrows('KEEL_ERR_PAYMENT_ALREADY_REQUESTED');
    });
    it('refuses a payment id that already failed', () => {
      given([requested, failed]).when(request).thenThrows('KEEL_ERR_PAYMENT_ALREADY_REQUESTED');
    });
  });

  describe('AuthorizePayment', () => {
    it('authorizes a requested payment, carrying the order and amount', () => {
      given([requested]).when(authorize).then([authorized]);
    });
    it('refuses an unknown payment', () => {
      given([]).when(authorize).thenThrows('KEEL_ERR_PAYMENT_NOT_FOUND');
    });
    it('refuses a payment already authorized', () => {
      given([requested, authorized]).when(authorize).thenThrows('KEEL_ERR_PAYMENT_INVALID_STATE', {
        status: 'authorized',
      });
    });
    it('refuses a failed payment', () => {
      given([requested, failed]).when(authorize).thenThrows('KEEL_ERR_PAYMENT_INVALID_STATE', { status: 'failed' });
    });
  });

  describe('FailPayment', () => {
    it('fails a requested payment', () => {
      given([requested]).when(fail).then([failed]);
    });
    it('refuses an unknown payment', () => {
      given([]).when(fail).thenThrows('KEEL_ERR_PAYMENT_NOT_FOUND');
    });
    it('refuses an authorized payment', () => {
      given([requested, authorized]).when(fail).thenThrows('KEEL_ERR_PAYMENT_INVALID_STATE');
    });
    it('refuses a payment already failed', () => {
      given([requested, failed]).when(fail).thenThrows('KEEL_ERR_PAYMENT_INVALID_STATE');
    });
  });

  describe('RefundPayment', () => {
    it('refunds part of an authorized payment', () => {
      given([requested, authorized]).when(refund(1000)).then([refunded(1000)]);
    });
    it('refunds the rest after a partial refund', () => {
      given([requested, authorized, refunded(1000)]).when(refund(3848)).then([refunded(3848)]);
    });
    it('refuses more than was authorized', () => {
      given([requested, authorized]).when(refund(4849)).thenThrows('KEEL_ERR_PAYMENT_REFUND_EXCEEDS_AUTHORIZED', {
        requested: 4849,
        refundable: 4848,
      });
    });
    it('refuses more than what is left after earlier refunds', () => {
      given([requested, authorized, refunded(4000)])
        .when(refund(849))
        .thenThrows('KEEL_ERR_PAYMENT_REFUND_EXCEEDS_AUTHORIZED', { refundable: 848 });
    });
    it('refuses a payment refunded in full', () => {
      given([requested, authorized, refunded(4848)]).when(refund(1)).thenThrows('KEEL_ERR_PAYMENT_INVALID_STATE', {
        status: 'refunded',
      });
    });
    it('refuses a payment that was never authorized', () => {
      given([requested]).when(refund(100)).thenThrows('KEEL_ERR_PAYMENT_INVALID_STATE', { status: 'requested' });
    });
    it('refuses a failed payment', () => {
      given([requested, failed]).when(refund(100)).thenThrows('KEEL_ERR_PAYMENT_INVALID_STATE');
    });
    it('refuses an unknown payment', () => {
      given([]).when(refund(100)).thenThrows('KEEL_ERR_PAYMENT_NOT_FOUND');
    });
  });

  describe('evolve', () => {
    it('adds refunds up and marks the payment refunded once all is returned', () => {
      const fold = (events: Parameters<typeof paymentDecider.evolve>[1][]) =>
        events.reduce(paymentDecider.evolve, paymentDecider.initialState());
      expect(fold([requested, authorized, refunded(1000)])).toMatchObject({ status: 'authorized', refunded: 1000 });
      expect(fold([requested, authorized, refunded(1000), refunded(3848)])).toMatchObject({
        status: 'refunded',
        refunded: 4848,
      });
    });
  });
});
