import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../../src/api/tokens.js';
import { codes, gql, openApiHarness, TEST_JWT_SECRET, tokenFor } from '../../support/api-app.js';
import type { ApiHarness } from '../../support/api-app.js';
import { countEvents } from '../../support/write-side.js';

const admin = tokenFor('ada', ['admin']);
const alice = tokenFor('alice', ['customer']);
const bob = tokenFor('bob', ['customer']);
const provider = tokenFor('acme-pay', ['payment-provider']);

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Mutations only an admin may call, each with an input that would otherwise succeed or fail in the domain. */
const ADMIN_MUTATIONS: Record<string, readonly [string, Record<string, unknown>]> = {
  listProduct: ['mutation ($input: ListProductInput!) { listProduct(input: $input) { streamId } }', { productId: 'p-x', sku: 'SKU-X', name: 'X', price: 1, currency: 'EUR' }],
  changePrice: ['mutation ($input: ChangePriceInput!) { changePrice(input: $input) { streamId } }', { productId: 'p-1', price: 2 }],
  delistProduct: ['mutation ($input: DelistProductInput!) { delistProduct(input: $input) { streamId } }', { productId: 'p-1' }],
  receiveStock: ['mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { streamId } }', { sku: 'SKU-1', quantity: 5 }],
};
const PLACE = 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }';
const CANCEL = 'mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { status } }';
const PAYMENT = 'mutation ($input: RecordPaymentOutcomeInput!) { recordPaymentOutcome(input: $input) { status } }';

describe('API auth rules', () => {
  let h: ApiHarness;
  /** Order ids are the server's: Alice's first order, placed in beforeAll. */
  let alicesOrder = '';
  beforeAll(async () => {
    h = await openApiHarness('api_auth');
    await gql(h.app, ADMIN_MUTATIONS.listProduct?.[0] ?? '', { input: { productId: 'p-1', sku: 'SKU-1', name: 'Kettle', price: 100, currency: 'EUR' } }, admin);
    await gql(h.app, ADMIN_MUTATIONS.receiveStock?.[0] ?? '', { input: { sku: 'SKU-1', quantity: 50 } }, admin);
    const placed = await gql(h.app, PLACE, { input: { lines: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }], currency: 'EUR' } }, alice);
    expect(placed.body.errors).toBeUndefined();
    alicesOrder = String((placed.body.data?.placeOrder as { orderId: string }).orderId);
  });
  afterAll(async () => {
    await h.close();
  });

  for (const [name, [query, input]] of Object.entries(ADMIN_MUTATIONS)) {
    it(`${name}: UNAUTHENTICATED without a token, FORBIDDEN for a customer and the payment provider, nothing appended`, async () => {
      const before = await countEvents(h.side);
      expect(codes(await gql(h.app, query, { input }))).toEqual(['UNAUTHENTICATED']);
      expect(codes(await gql(h.app, query, { input }, alice))).toEqual(['FORBIDDEN']);
      expect(codes(await gql(h.app, query, { input }, provider))).toEqual(['FORBIDDEN']);
      expect(await countEvents(h.side)).toBe(before);
    });
  }

  it('placeOrder: a customer only (UNAUTHENTICATED without a token, FORBIDDEN for an admin)', async () => {
    const input = { lines: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }], currency: 'EUR' };
    const before = await countEvents(h.side);
    expect(codes(await gql(h.app, PLACE, { input }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await gql(h.app, PLACE, { input }, admin))).toEqual(['FORBIDDEN']);
    expect(await countEvents(h.side)).toBe(before);
  });

  it("placeOrder: the order's customer is the token's subject (no customerId input exists)", async () => {
    const forged = await gql(h.app, PLACE, { input: { customerId: 'bob', lines: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }], currency: 'EUR' } }, alice);
    expect(forged.body.errors?.[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_VALIDATION', field: 'input.customerId' });
  });

  it("cancelOrder: another customer's order reads as absent (checked on the order stream), allowed for its owner and an admin", async () => {
    const before = await countEvents(h.side);
    const input = { orderId: alicesOrder, reason: 'not mine' };
    expect(codes(await gql(h.app, CANCEL, { input }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await gql(h.app, CANCEL, { input }, bob))).toEqual(['KEEL_ERR_ORDER_NOT_FOUND']);
    expect(codes(await gql(h.app, CANCEL, { input }, provider))).toEqual(['FORBIDDEN']);
    expect(await countEvents(h.side)).toBe(before);

    const placed = await gql(h.app, PLACE, { input: { lines: [{ sku: 'SKU-1', quantity: 1, unitPrice: 100 }], currency: 'EUR' } }, alice);
    expect(placed.body.errors).toBeUndefined();
    const second = (placed.body.data?.placeOrder as { orderId: string }).orderId;
    expect((await gql(h.app, CANCEL, { input: { orderId: second, reason: 'mine' } }, alice)).body.data?.cancelOrder).toEqual({ status: 'CANCELLED' });
    expect((await gql(h.app, CANCEL, { input }, admin)).body.data?.cancelOrder).toEqual({ status: 'CANCELLED' });
  });

  it('recordPaymentOutcome: the payment provider only', async () => {
    const input = { paymentId: 'pay-x', outcome: 'DECLINED', reason: 'card declined' };
    const before = await countEvents(h.side);
    expect(codes(await gql(h.app, PAYMENT, { input }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await gql(h.app, PAYMENT, { input }, alice))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(h.app, PAYMENT, { input }, admin))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(h.app, PAYMENT, { input }, provider))).toEqual(['KEEL_ERR_PAYMENT_NOT_FOUND']);
    expect(await countEvents(h.side)).toBe(before);
  });

  it('queries: myOrders and order need a token, projectionStatus an admin', async () => {
    expect(codes(await gql(h.app, '{ myOrders { edges { node { id } } } }'))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await gql(h.app, 'query ($id: ID!) { order(id: $id) { id } }', { id: alicesOrder }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await gql(h.app, '{ projectionStatus { name } }'))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await gql(h.app, '{ projectionStatus { name } }', undefined, alice))).toEqual(['FORBIDDEN']);
  });

  const now = Math.floor(Date.now() / 1000);
  /** A correctly signed token with whatever claims, to test the claim rules. */
  const signedWith = (claims: Record<string, unknown>): string => {
    const unsigned = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(claims)}`;
    return `${unsigned}.${createHmac('sha256', TEST_JWT_SECRET).update(unsigned).digest('base64url')}`;
  };
  const badTokens: Record<string, string> = {
    'signed with another secret': tokenFor('alice', ['customer'], 'another-secret-0123456789abcdef0123456789'),
    expired: signToken({ subject: 'alice', roles: ['customer'], secret: TEST_JWT_SECRET, expiresInSeconds: 60, now: new Date(Date.now() - 3_600_000) }),
    'not a JWT': 'not-a-jwt',
    'an unsigned token (alg none)': `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: 'ada', roles: ['admin'], exp: now + 60 })}.`,
    'an unknown role': signedWith({ sub: 'ada', roles: ['superuser'], exp: now + 60 }),
    'no expiry': signedWith({ sub: 'ada', roles: ['admin'] }),
    'no subject': signedWith({ roles: ['admin'], exp: now + 60 }),
  };

  for (const [what, token] of Object.entries(badTokens)) {
    it(`a bad token (${what}) is refused with 401 UNAUTHENTICATED, even on a public query`, async () => {
      const response = await gql(h.app, '{ products { edges { node { id } } } }', undefined, token);
      expect(response.status).toBe(401);
      expect(codes(response)).toEqual(['UNAUTHENTICATED']);
      expect(response.body.data).toBeUndefined();
    });
  }

  it('a header that is not "Bearer <token>" is refused', async () => {
    const response = await gql(h.app, '{ products { edges { node { id } } } }', undefined, undefined, { authorization: 'Basic YWxhZGRpbjpvcGVuc2VzYW1l' });
    expect(response.status).toBe(401);
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
  });
});
