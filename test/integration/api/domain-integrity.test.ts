/**
 * Regression tests of issue #10's business rules, through the GraphQL API as a hostile customer
 * would try them: prices and currencies come from the catalog, delisted products and unpayable
 * totals are refused before anything holds stock, an idempotency key reused for another request is
 * refused (leaking nothing internal), and order ids are the server's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, gql, openApiHarness, tokenFor } from '../../support/api-app.js';
import type { ApiHarness } from '../../support/api-app.js';
import { countEvents } from '../../support/write-side.js';

const admin = tokenFor('ada', ['admin']);
const alice = tokenFor('alice', ['customer']);
const mallory = tokenFor('mallory', ['customer']);

const RESULT = 'streamId revision position duplicate eventTypes';
const LIST = `mutation ($input: ListProductInput!) { listProduct(input: $input) { ${RESULT} productId sku } }`;
const RECEIVE = `mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { ${RESULT} sku quantity } }`;
const PLACE = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { ${RESULT} orderId total currency } }`;
const CANCEL = `mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { ${RESULT} orderId status } }`;
const PRICE = `mutation ($input: ChangePriceInput!) { changePrice(input: $input) { ${RESULT} productId price } }`;
const DELIST = `mutation ($input: DelistProductInput!) { delistProduct(input: $input) { ${RESULT} productId } }`;

describe('domain integrity through the API (issue #10)', () => {
  let h: ApiHarness;
  const stockUp = async (productId: string, sku: string, price: number, currency = 'EUR') => {
    const listed = await gql(h.app, LIST, { input: { productId, sku, name: productId, price, currency } }, admin);
    expect(listed.body.errors).toBeUndefined();
    await gql(h.app, RECEIVE, { input: { sku, quantity: 10 } }, admin);
  };
  const place = (token: string, input: Record<string, unknown>) => gql(h.app, PLACE, { input }, token);

  beforeAll(async () => {
    h = await openApiHarness('api_integrity', { clock: () => new Date('2026-12-03T10:00:00.000Z') });
    await stockUp('kettle', 'KETTLE', 2999);
  });
  afterAll(async () => h.close());

  it('regression: a customer set their own price (3 × 1 JPY for a 2999 EUR kettle) — refused with the current price', async () => {
    const before = await countEvents(h.side);
    const cheat = await place(alice, { lines: [{ sku: 'KETTLE', quantity: 3, unitPrice: 1 }], currency: 'JPY' });
    expect(cheat.body.data).toBeNull();
    expect(cheat.body.errors?.[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_PRICE_CHANGED', sku: 'KETTLE', currentPrice: 2999, currency: 'EUR', sentPrice: 1 });
    const yen = await place(alice, { lines: [{ sku: 'KETTLE', quantity: 3 }], currency: 'JPY' });
    expect(yen.body.errors?.[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_CURRENCY_MISMATCH', currency: 'EUR', sentCurrency: 'JPY' });
    expect(await countEvents(h.side)).toBe(before);
    const fair = await place(alice, { lines: [{ sku: 'KETTLE', quantity: 3 }] });
    expect(fair.body.data?.placeOrder).toMatchObject({ total: 3 * 2999, currency: 'EUR' });
  });

  it('a price that changed while the customer looked is refused with the new price, so the front end can show it', async () => {
    await stockUp('toaster', 'TOASTER', 4000);
    await gql(h.app, PRICE, { input: { productId: 'toaster', price: 4500 } }, admin);
    const stale = await place(alice, { lines: [{ sku: 'TOASTER', quantity: 1, unitPrice: 4000 }], currency: 'EUR' });
    expect(stale.body.errors?.[0]?.extensions).toMatchObject({
      code: 'KEEL_ERR_PRICE_CHANGED',
      lines: [{ sku: 'TOASTER', sentPrice: 4000, currentPrice: 4500, currency: 'EUR' }],
    });
    const accepted = await place(alice, { lines: [{ sku: 'TOASTER', quantity: 1, unitPrice: 4500 }], currency: 'EUR' });
    expect(accepted.body.data?.placeOrder).toMatchObject({ total: 4500 });
  });

  it('regression: an order no payment can settle held stock for 15 minutes — refused when placed', async () => {
    await stockUp('sticker', 'STICKER', 0);
    await stockUp('yacht', 'YACHT', 1_000_000_000);
    const before = await countEvents(h.side);
    const free = await place(alice, { lines: [{ sku: 'STICKER', quantity: 5 }] });
    expect(free.body.errors?.[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_ORDER_TOTAL_OUT_OF_RANGE', total: 0, min: 1 });
    const dear = await place(alice, { lines: [{ sku: 'YACHT', quantity: 2 }] });
    expect(dear.body.errors?.[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_ORDER_TOTAL_OUT_OF_RANGE', total: 2_000_000_000, max: 1_000_000_000 });
    expect(await countEvents(h.side)).toBe(before);
  });

  it('regression: a delisted (recalled) product could still be ordered — refused', async () => {
    await stockUp('recalled', 'RECALLED', 2500);
    const delisted = await gql(h.app, DELIST, { input: { productId: 'recalled', reason: 'safety recall' } }, admin);
    expect(delisted.body.errors).toBeUndefined();
    const order = await place(alice, { lines: [{ sku: 'RECALLED', quantity: 1 }] });
    expect(order.body.errors?.[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_PRODUCT_DELISTED', sku: 'RECALLED', productId: 'recalled' });
  });

  it('regression: a reused key with another price answered "duplicate" with the new price — refused; a true retry answers what was stored', async () => {
    await stockUp('lamp', 'LAMP', 2999);
    const first = await gql(h.app, PRICE, { input: { productId: 'lamp', price: 1500, idempotencyKey: 'cp1' } }, admin);
    expect(first.body.data?.changePrice).toMatchObject({ price: 1500, duplicate: false });
    const before = await countEvents(h.side);
    const reused = await gql(h.app, PRICE, { input: { productId: 'lamp', price: 9999, idempotencyKey: 'cp1' } }, admin);
    expect(reused.body.data).toBeNull();
    expect(codes(reused)).toEqual(['KEEL_ERR_IDEMPOTENCY_KEY_REUSED']);
    const retry = await gql(h.app, PRICE, { input: { productId: 'lamp', price: 1500, idempotencyKey: 'cp1' } }, admin);
    expect(retry.body.data?.changePrice).toEqual({ ...(first.body.data?.changePrice as object), duplicate: true });
    expect(await countEvents(h.side)).toBe(before);
  });

  it('regression: the same key with another orderId leaked an event id and a stream name — refused with a clean coded error', async () => {
    const orderA = (await place(alice, { lines: [{ sku: 'KETTLE', quantity: 1 }] })).body.data?.placeOrder as Record<string, unknown>;
    const orderB = (await place(alice, { lines: [{ sku: 'KETTLE', quantity: 2 }] })).body.data?.placeOrder as Record<string, unknown>;
    const cancelA = await gql(h.app, CANCEL, { input: { orderId: orderA.orderId, reason: 'changed my mind', idempotencyKey: 'cancel-1' } }, alice);
    expect(cancelA.body.errors).toBeUndefined();
    const cancelB = await gql(h.app, CANCEL, { input: { orderId: orderB.orderId, reason: 'changed my mind', idempotencyKey: 'cancel-1' } }, alice);
    expect(codes(cancelB)).toEqual(['KEEL_ERR_IDEMPOTENCY_KEY_REUSED']);
    const text = JSON.stringify(cancelB.body);
    expect(text).not.toMatch(/order-|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
    // Order B is untouched: its customer can still cancel it with a new key.
    const again = await gql(h.app, CANCEL, { input: { orderId: orderB.orderId, reason: 'changed my mind', idempotencyKey: 'cancel-2' } }, alice);
    expect(again.body.data?.cancelOrder).toMatchObject({ orderId: orderB.orderId, status: 'CANCELLED', duplicate: false });
  });

  it('regression: clients chose order ids (squatting, probing) — ids are the server\'s, and another customer\'s order reads as absent', async () => {
    const squat = await place(mallory, { orderId: 'alice-next-order', lines: [{ sku: 'KETTLE', quantity: 1 }] });
    expect(squat.status).toBe(400);
    expect(codes(squat)).toEqual(['KEEL_ERR_VALIDATION']);
    const keyed = await place(alice, { lines: [{ sku: 'KETTLE', quantity: 1 }], idempotencyKey: 'checkout-7' });
    const mine = keyed.body.data?.placeOrder as Record<string, unknown>;
    // The same key from another customer is another order: ids cannot be derived across customers.
    const theirs = (await place(mallory, { lines: [{ sku: 'KETTLE', quantity: 1 }], idempotencyKey: 'checkout-7' })).body.data?.placeOrder as Record<string, unknown>;
    expect(theirs.orderId).not.toBe(mine.orderId);
    const notMine = await gql(h.app, CANCEL, { input: { orderId: mine.orderId, reason: 'gotcha' } }, mallory);
    const missing = await gql(h.app, CANCEL, { input: { orderId: 'no-such-order', reason: 'gotcha' } }, mallory);
    expect(codes(notMine)).toEqual(['KEEL_ERR_ORDER_NOT_FOUND']);
    expect(codes(missing)).toEqual(['KEEL_ERR_ORDER_NOT_FOUND']);
    expect(notMine.status).toBe(missing.status);
  });
});
