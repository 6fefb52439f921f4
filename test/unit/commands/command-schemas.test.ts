/** Input validation: malformed commands are refused with KEEL_ERR_VALIDATION before any decider runs. */
import { describe, expect, it } from 'vitest';
import { parseInventoryCommand } from '../../../src/commands/inventory/index.js';
import { MAX_ORDER_LINES, parseOrderCommand } from '../../../src/commands/order/index.js';
import { parsePaymentCommand } from '../../../src/commands/payment/index.js';
import { parseProductCommand } from '../../../src/commands/product/index.js';
import { ValidationError } from '../../../src/platform/errors.js';

const now = '2026-03-01T10:00:00.000Z';
const later = '2026-03-01T10:15:00.000Z';

/** Runs `parse` and returns the refused field, or fails the test when the input was accepted. */
const refusedField = (parse: (input: unknown) => unknown, input: unknown): string => {
  try {
    parse(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    if (error instanceof ValidationError) {
      expect(error.code).toBe('KEEL_ERR_VALIDATION');
      return error.field;
    }
  }
  throw new Error(`accepted: ${JSON.stringify(input)}`);
};

const line = (sku: string, quantity = 1, unitPrice = 1999) => ({ sku, quantity, unitPrice });
const placeOrder = (data: Record<string, unknown>) => ({
  type: 'PlaceOrder',
  data: { orderId: 'o-1', customerId: 'c-1', lines: [line('A')], currency: 'EUR', catalog: [], now, ...data },
});
const reserve = (data: Record<string, unknown>) => ({
  type: 'ReserveStock',
  data: { sku: 'A', orderId: 'o-1', quantity: 1, expiresAt: later, now, ...data },
});

describe('command schemas', () => {
  it('accepts well-formed commands and strips unknown keys', () => {
    expect(parseOrderCommand({ ...placeOrder({ coupon: 'FREE' }) })).toEqual(placeOrder({}));
    expect(parseInventoryCommand(reserve({}))).toEqual(reserve({}));
    expect(parseProductCommand({ type: 'DelistProduct', data: { productId: 'p-1' } })).toEqual({
      type: 'DelistProduct',
      data: { productId: 'p-1' },
    });
  });

  it('refuses an unknown command type', () => {
    expect(refusedField(parseOrderCommand, { type: 'ShipOrder', data: {} })).toBe('type');
  });

  describe('ids, strings and money', () => {
    it.each([
      ['an empty id', { productId: '' }, 'data.productId'],
      ['an id with spaces', { productId: 'p 1' }, 'data.productId'],
      ['an id of 65 characters', { productId: 'p'.repeat(65) }, 'data.productId'],
      ['a SKU with a slash', { sku: 'A/B' }, 'data.sku'],
      ['a name of 201 characters', { name: 'n'.repeat(201) }, 'data.name'],
      ['a blank name', { name: '   ' }, 'data.name'],
      ['a NUL in the name', { name: 'Kettle\u0000' }, 'data.name'],
      ['a decimal price', { price: 19.99 }, 'data.price'],
      ['a price as a string', { price: '1999' }, 'data.price'],
      ['a negative price', { price: -1 }, 'data.price'],
      ['an absurd price', { price: 1e12 }, 'data.price'],
      ['a currency that is not ISO-4217', { currency: 'euro' }, 'data.currency'],
    ])('ListProduct refuses %s', (_what, change, field) => {
      const data = { productId: 'p-1', sku: 'A', name: 'T-shirt', price: 1999, currency: 'EUR', ...change };
      expect(refusedField(parseProductCommand, { type: 'ListProduct', data })).toBe(field);
    });

    it('DelistProduct refuses a reason of 501 characters', () => {
      const input = { type: 'DelistProduct', data: { productId: 'p-1', reason: 'r'.repeat(501) } };
      expect(refusedField(parseProductCommand, input)).toBe('data.reason');
    });
  });

  describe('quantities and times', () => {
    it.each([
      ['a zero quantity', { quantity: 0 }, 'data.quantity'],
      ['a negative quantity', { quantity: -3 }, 'data.quantity'],
      ['a fractional quantity', { quantity: 1.5 }, 'data.quantity'],
      ['NaN', { quantity: Number.NaN }, 'data.quantity'],
      ['a time that is not ISO-8601', { now: '1 March 2026' }, 'data.now'],
      ['an expiry that is not after now', { expiresAt: now }, 'data.expiresAt'],
      ['a missing order id', { orderId: undefined }, 'data.orderId'],
    ])('ReserveStock refuses %s', (_what, change, field) => {
      expect(refusedField(parseInventoryCommand, reserve(change))).toBe(field);
    });

    it('ReceiveStock refuses a zero quantity', () => {
      const input = { type: 'ReceiveStock', data: { sku: 'A', quantity: 0 } };
      expect(refusedField(parseInventoryCommand, input)).toBe('data.quantity');
    });
  });

  describe('orders', () => {
    it('accepts the maximum number of lines', () => {
      const lines = Array.from({ length: MAX_ORDER_LINES }, (_, i) => line(`SKU-${i}`));
      expect(() => parseOrderCommand(placeOrder({ lines }))).not.toThrow();
    });
    it.each([
      ['no lines', { lines: [] }, 'data.lines'],
      ['51 lines', { lines: Array.from({ length: 51 }, (_, i) => line(`SKU-${i}`)) }, 'data.lines'],
      ['the same SKU twice', { lines: [line('A'), line('B'), line('A', 2)] }, 'data.lines'],
      ['a zero quantity', { lines: [line('A', 0)] }, 'data.lines.0.quantity'],
      ['a fractional unit price', { lines: [line('A', 1), line('B', 1, 9.5)] }, 'data.lines.1.unitPrice'],
      ['10 001 units on a line', { lines: [line('A', 10_001)] }, 'data.lines.0.quantity'],
      ['a malformed customer id', { customerId: 'c/1' }, 'data.customerId'],
    ])('PlaceOrder refuses %s', (_what, change, field) => {
      expect(refusedField(parseOrderCommand, placeOrder(change))).toBe(field);
    });
    it.each([
      ['a NUL character', 'late\u0000delivery'],
      ['a lone high surrogate', 'late \uD83D delivery'],
      ['a lone low surrogate', '\uDE00 late'],
    ])('regression: a reason with %s reached PostgreSQL and failed a shared append — refused as a validation error', (_what, reason) => {
      const cancel = { type: 'CancelOrder', data: { orderId: 'o-1', reason, now } };
      expect(refusedField(parseOrderCommand, cancel)).toBe('data.reason');
    });
    it('accepts text with paired surrogates (emoji) and other control-free Unicode', () => {
      const cancel = { type: 'CancelOrder', data: { orderId: 'o-1', reason: 'too late 😞 — désolé', now } };
      expect(() => parseOrderCommand(cancel)).not.toThrow();
    });
  });

  describe('payments', () => {
    it.each([
      ['a zero amount', { amount: 0 }, 'data.amount'],
      ['a decimal amount', { amount: 48.48 }, 'data.amount'],
      ['a lower-case currency', { currency: 'eur' }, 'data.currency'],
    ])('RequestPayment refuses %s', (_what, change, field) => {
      const data = { paymentId: 'pay-1', orderId: 'o-1', amount: 4848, currency: 'EUR', now, ...change };
      expect(refusedField(parsePaymentCommand, { type: 'RequestPayment', data })).toBe(field);
    });

    it('RefundPayment refuses a negative amount', () => {
      const data = { paymentId: 'pay-1', amount: -5, reason: 'returned', now };
      expect(refusedField(parsePaymentCommand, { type: 'RefundPayment', data })).toBe('data.amount');
    });

    it('AuthorizePayment refuses an empty authorization code', () => {
      const data = { paymentId: 'pay-1', authorizationCode: '', now };
      expect(refusedField(parsePaymentCommand, { type: 'AuthorizePayment', data })).toBe('data.authorizationCode');
    });
  });
});
