import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeConsistencyToken } from '../../../src/api/consistency-token.js';
import { codes, gql, openApiHarness, tokenFor } from '../../support/api-app.js';
import type { ApiHarness } from '../../support/api-app.js';
import { countEvents } from '../../support/write-side.js';

const admin = tokenFor('ada', ['admin']);
const alice = tokenFor('alice', ['customer']);
const bob = tokenFor('bob', ['customer']);
const provider = tokenFor('acme-pay', ['payment-provider']);

const RESULT = 'streamId revision position consistencyToken duplicate eventTypes';
const LIST = `mutation ($input: ListProductInput!) { listProduct(input: $input) { ${RESULT} productId sku } }`;
const RECEIVE = `mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { ${RESULT} sku quantity } }`;
const PLACE = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { ${RESULT} orderId customerId total currency status } }`;
const CANCEL = `mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { ${RESULT} orderId status } }`;
const PRICE = `mutation ($input: ChangePriceInput!) { changePrice(input: $input) { ${RESULT} productId price } }`;
const DELIST = `mutation ($input: DelistProductInput!) { delistProduct(input: $input) { ${RESULT} productId } }`;
const PAYMENT = `mutation ($input: RecordPaymentOutcomeInput!) { recordPaymentOutcome(input: $input) { ${RESULT} paymentId status } }`;

describe('GraphQL mutations → command handlers (app.inject, real PostgreSQL write side)', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await openApiHarness('api_mutations', { clock: () => new Date('2026-11-30T10:00:00.000Z') });
  });
  afterAll(async () => {
    await h.close();
  });

  it('lists a product, receives stock, places and cancels an order, each returning the MutationResult', async () => {
    const listed = await gql(h.app, LIST, { input: { productId: 'p-1', sku: 'SKU-1', name: 'Kettle', price: 2999, currency: 'EUR' } }, admin);
    expect(listed.body.errors).toBeUndefined();
    const product = listed.body.data?.listProduct as Record<string, unknown>;
    expect(product).toMatchObject({ streamId: 'product-p-1', revision: '0', duplicate: false, eventTypes: ['ProductListed'], productId: 'p-1', sku: 'SKU-1' });
    expect(decodeConsistencyToken(String(product.consistencyToken))).toBe(BigInt(String(product.position)));

    const received = await gql(h.app, RECEIVE, { input: { sku: 'SKU-1', quantity: 10 } }, admin);
    expect(received.body.data?.receiveStock).toMatchObject({ streamId: 'inventory-SKU-1', eventTypes: ['StockReceived'], sku: 'SKU-1', quantity: 10 });

    const placed = await gql(h.app, PLACE, { input: { lines: [{ sku: 'SKU-1', quantity: 2, unitPrice: 2999 }], currency: 'EUR' } }, alice);
    expect(placed.body.errors).toBeUndefined();
    const order = placed.body.data?.placeOrder as Record<string, unknown>;
    const orderId = String(order.orderId);
    expect(orderId).toMatch(/^[0-9a-f-]{36}$/);
    expect(order).toMatchObject({
      streamId: `order-${orderId}`,
      revision: '0',
      eventTypes: ['OrderPlaced'],
      customerId: 'alice',
      total: 5998,
      currency: 'EUR',
      status: 'PENDING',
    });

    const cancelled = await gql(h.app, CANCEL, { input: { orderId, reason: 'changed my mind' } }, alice);
    expect(cancelled.body.errors).toBeUndefined();
    expect(cancelled.body.data?.cancelOrder).toMatchObject({ streamId: `order-${orderId}`, orderId, revision: '1', eventTypes: ['OrderCancelled'], status: 'CANCELLED' });
    const placedPosition = BigInt(String((placed.body.data?.placeOrder as Record<string, unknown>).position));
    expect(BigInt(String((cancelled.body.data?.cancelOrder as Record<string, unknown>).position))).toBeGreaterThan(placedPosition);
  });

  it('changes a price and delists a product', async () => {
    await gql(h.app, LIST, { input: { productId: 'p-2', sku: 'SKU-2', name: 'Mug', price: 900, currency: 'EUR' } }, admin);
    const changed = await gql(h.app, PRICE, { input: { productId: 'p-2', price: 800 } }, admin);
    expect(changed.body.data?.changePrice).toMatchObject({ eventTypes: ['ProductPriceChanged'], productId: 'p-2', price: 800 });
    const delisted = await gql(h.app, DELIST, { input: { productId: 'p-2', reason: 'discontinued' } }, admin);
    expect(delisted.body.data?.delistProduct).toMatchObject({ eventTypes: ['ProductDelisted'], productId: 'p-2' });
  });

  it('records the payment provider callback on the payment stream', async () => {
    const { commerce } = await import('../../support/write-side.js').then((m) => m.commandsOn(h.side.store));
    await commerce.requestPayment({ paymentId: 'pay-1', orderId: 'o-pay', amount: 500, currency: 'EUR' }, { actor: 'test', now: '2026-11-30T09:00:00.000Z' });
    const paid = await gql(h.app, PAYMENT, { input: { paymentId: 'pay-1', outcome: 'AUTHORIZED', authorizationCode: 'AUTH-77' } }, provider);
    expect(paid.body.errors).toBeUndefined();
    expect(paid.body.data?.recordPaymentOutcome).toMatchObject({ streamId: 'payment-pay-1', eventTypes: ['PaymentAuthorized'], status: 'AUTHORIZED', duplicate: false });
    // The provider repeats its callback (no key): the same answer, nothing written.
    const before = await countEvents(h.side);
    const again = await gql(h.app, PAYMENT, { input: { paymentId: 'pay-1', outcome: 'AUTHORIZED', authorizationCode: 'AUTH-77' } }, provider);
    expect(again.body.data?.recordPaymentOutcome).toMatchObject({ duplicate: true, position: (paid.body.data?.recordPaymentOutcome as Record<string, unknown>).position });
    // Its key is the server's (`<paymentId>.<outcome>`), not a client's: a repeat with other details
    // is still that callback, answered with what was stored, never a key-reuse error.
    const reworded = await gql(h.app, PAYMENT, { input: { paymentId: 'pay-1', outcome: 'AUTHORIZED', authorizationCode: 'AUTH-78' } }, provider);
    expect(reworded.body.data?.recordPaymentOutcome).toMatchObject({ duplicate: true, status: 'AUTHORIZED' });
    expect(await countEvents(h.side)).toBe(before);
  });

  it('is idempotent per idempotency key: the same result, one set of events', async () => {
    await gql(h.app, LIST, { input: { productId: 'p-3', sku: 'SKU-3', name: 'Lamp', price: 4500, currency: 'EUR' } }, admin);
    const input = { lines: [{ sku: 'SKU-3', quantity: 1, unitPrice: 4500 }], currency: 'EUR', idempotencyKey: 'checkout-42' };
    const first = await gql(h.app, PLACE, { input }, alice);
    const count = await countEvents(h.side);
    const second = await gql(h.app, PLACE, { input }, alice);
    const a = first.body.data?.placeOrder as Record<string, unknown>;
    const b = second.body.data?.placeOrder as Record<string, unknown>;
    expect(a.duplicate).toBe(false);
    expect(b).toEqual({ ...a, duplicate: true });
    expect(await countEvents(h.side)).toBe(count);
    // The same key from another customer is another command.
    const other = await gql(h.app, PLACE, { input }, bob);
    expect((other.body.data?.placeOrder as Record<string, unknown>).orderId).not.toBe(a.orderId);
  });

  it('names the input field of a validation error and appends nothing', async () => {
    const before = await countEvents(h.side);
    const bad = await gql(h.app, LIST, { input: { productId: 'p-4', sku: 'SKU 4', name: 'X', price: 1, currency: 'EUR' } }, admin);
    expect(codes(bad)).toEqual(['KEEL_ERR_VALIDATION']);
    expect(bad.body.errors?.[0]?.extensions?.field).toBe('input.sku');
    const line = await gql(h.app, PLACE, { input: { lines: [{ sku: 'SKU-1', quantity: 0, unitPrice: 1 }], currency: 'EUR' } }, alice);
    expect(line.body.errors?.[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_VALIDATION', field: 'input.lines.0.quantity' });
    const key = await gql(h.app, RECEIVE, { input: { sku: 'SKU-1', quantity: 1, idempotencyKey: 'has spaces' } }, admin);
    expect(key.body.errors?.[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_VALIDATION', field: 'input.idempotencyKey' });
    const wrongType = await gql(h.app, RECEIVE, { input: { sku: 'SKU-1', quantity: 'ten' } }, admin);
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.errors?.[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_VALIDATION', field: 'input.quantity' });
    const missing = await gql(h.app, RECEIVE, { input: { sku: 'SKU-1' } }, admin);
    expect(missing.body.errors?.[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_VALIDATION', field: 'input.quantity' });
    expect(await countEvents(h.side)).toBe(before);
  });

  it('reports domain errors with their code: unknown ids and SKUs', async () => {
    const before = await countEvents(h.side);
    const unknownSku = await gql(h.app, PLACE, { input: { lines: [{ sku: 'NOPE', quantity: 1, unitPrice: 1 }], currency: 'EUR' } }, alice);
    expect(unknownSku.body.errors?.[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_UNKNOWN_SKU', sku: 'NOPE', field: 'data.lines.0.sku' });
    const unknownProduct = await gql(h.app, PRICE, { input: { productId: 'no-such-product', price: 1 } }, admin);
    expect(codes(unknownProduct)).toEqual(['KEEL_ERR_PRODUCT_NOT_FOUND']);
    const unknownOrder = await gql(h.app, CANCEL, { input: { orderId: 'no-such-order', reason: 'x' } }, alice);
    expect(codes(unknownOrder)).toEqual(['KEEL_ERR_ORDER_NOT_FOUND']);
    const unknownStock = await gql(h.app, RECEIVE, { input: { sku: 'NO-SUCH-SKU', quantity: 1 } }, admin);
    expect(unknownStock.body.errors?.[0]?.extensions?.code).toMatch(/^KEEL_ERR_/);
    expect(await countEvents(h.side)).toBe(before);
  });
});
