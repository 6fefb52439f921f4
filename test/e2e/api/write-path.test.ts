/**
 * The GraphQL write path against the real server process (src/main.ts) on PostgreSQL and Redis:
 * mutations end to end through the process manager to a confirmed order, idempotency checked in
 * the event log, every auth rule, and bad input that leaves the event log unchanged.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeConsistencyToken } from '../../../src/api/consistency-token.js';
import { signToken } from '../../../src/api/tokens.js';
import type { Role } from '../../../src/api/tokens.js';
import { E2E_JWT_SECRET, errorCodes, openEventLog, postGraphql, startApiServer } from '../../support/api-server.js';
import type { ApiServer, EventLog } from '../../support/api-server.js';
import { createTestDatabase, redisTestPrefix, redisTestUrl } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';
import { readmeSection } from '../../support/docs.js';

const token = (sub: string, role: Role): string => signToken({ subject: sub, roles: [role], secret: E2E_JWT_SECRET, expiresInSeconds: 3600 });
const admin = token('ada', 'admin');
const alice = token('alice', 'customer');
const bob = token('bob', 'customer');

const RESULT = 'streamId revision position consistencyToken duplicate eventTypes';
const LIST = `mutation ($input: ListProductInput!) { listProduct(input: $input) { ${RESULT} productId } }`;
const PRICE = `mutation ($input: ChangePriceInput!) { changePrice(input: $input) { ${RESULT} } }`;
const DELIST = `mutation ($input: DelistProductInput!) { delistProduct(input: $input) { ${RESULT} } }`;
const RECEIVE = `mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { ${RESULT} } }`;
const PLACE = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { ${RESULT} orderId customerId total status } }`;
const CANCEL = `mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { ${RESULT} status } }`;

describe('GraphQL write path over HTTP (real server process)', () => {
  let database: TestDatabase;
  let server: ApiServer;
  let log: EventLog;
  let url: string;
  beforeAll(async () => {
    database = await createTestDatabase('api_write_path');
    server = await startApiServer({
      DATABASE_URL: database.url,
      REDIS_URL: redisTestUrl(),
      REDIS_KEY_PREFIX: redisTestPrefix('api-write-path'),
      PAYMENT_FAKE_LATENCY_MS: '0',
      PAYMENT_FAKE_FAILURE_RATE: '0',
      BODY_LIMIT_BYTES: '8192',
      // Generous (the PostgreSQL cluster is shared; see docs/operations/event-store.md): the examples
      // read their write with its consistency token.
      CONSISTENCY_WAIT_MS: '30000',
    });
    url = server.url;
    log = await openEventLog(database.url);
    const listed = await postGraphql(url, LIST, { input: { productId: 'kettle', sku: 'KETTLE', name: 'Kettle', price: 2999, currency: 'EUR' } }, admin);
    expect(listed.body.errors).toBeUndefined();
  });
  afterAll(async () => {
    await log?.close();
    await server?.stop();
    await database?.drop();
  });

  describe('bad input: a clear error each, and the event log unchanged', () => {
    const cases: Record<string, () => Promise<{ status: number; code: unknown; field?: unknown }>> = {
      'a malformed query': async () => {
        const r = await postGraphql(url, 'mutation { receiveStock(input: { sku: "KETTLE", quantity: 5 }) { streamId ');
        return { status: r.status, code: errorCodes(r)[0] };
      },
      'a field of the wrong type': async () => {
        const r = await postGraphql(url, RECEIVE, { input: { sku: 'KETTLE', quantity: 'five' } }, admin);
        return { status: r.status, code: errorCodes(r)[0], field: r.body.errors?.[0]?.extensions?.field };
      },
      'a value the command refuses': async () => {
        const r = await postGraphql(url, RECEIVE, { input: { sku: 'KETTLE', quantity: -5 } }, admin);
        return { status: r.status, code: errorCodes(r)[0], field: r.body.errors?.[0]?.extensions?.field };
      },
      'an oversized body': async () => {
        const r = await postGraphql(url, LIST, { input: { productId: 'big', sku: 'BIG', name: 'x'.repeat(10_000), price: 1, currency: 'EUR' } }, admin);
        return { status: r.status, code: errorCodes(r)[0] };
      },
      'an unknown product id': async () => {
        const r = await postGraphql(url, PRICE, { input: { productId: 'no-such-product', price: 100 } }, admin);
        return { status: r.status, code: errorCodes(r)[0] };
      },
      'an unknown order id': async () => {
        const r = await postGraphql(url, CANCEL, { input: { orderId: 'no-such-order', reason: 'x' } }, alice);
        return { status: r.status, code: errorCodes(r)[0] };
      },
      'an unknown SKU in an order': async () => {
        const r = await postGraphql(url, PLACE, { input: { lines: [{ sku: 'NO-SUCH-SKU', quantity: 1, unitPrice: 1 }], currency: 'EUR' } }, alice);
        return { status: r.status, code: errorCodes(r)[0] };
      },
    };
    const expected: Record<string, { status: number; code: string; field?: string }> = {
      'a malformed query': { status: 400, code: 'KEEL_ERR_GRAPHQL_VALIDATION' },
      'a field of the wrong type': { status: 400, code: 'KEEL_ERR_VALIDATION', field: 'input.quantity' },
      'a value the command refuses': { status: 200, code: 'KEEL_ERR_VALIDATION', field: 'input.quantity' },
      'an oversized body': { status: 413, code: 'KEEL_ERR_BODY_TOO_LARGE' },
      'an unknown product id': { status: 200, code: 'KEEL_ERR_PRODUCT_NOT_FOUND' },
      'an unknown order id': { status: 200, code: 'KEEL_ERR_ORDER_NOT_FOUND' },
      'an unknown SKU in an order': { status: 200, code: 'KEEL_ERR_UNKNOWN_SKU' },
    };
    for (const [what, run] of Object.entries(cases)) {
      it(what, async () => {
        const before = await log.count();
        expect(await run()).toEqual(expected[what]);
        expect(await log.count()).toBe(before);
      });
    }
  });

  describe('auth', () => {
    it('refuses every admin mutation to a customer (FORBIDDEN) and to no token (UNAUTHENTICATED)', async () => {
      const before = await log.count();
      const calls: Array<[string, Record<string, unknown>]> = [
        [LIST, { productId: 'p-new', sku: 'P-NEW', name: 'New', price: 1, currency: 'EUR' }],
        [PRICE, { productId: 'kettle', price: 1 }],
        [DELIST, { productId: 'kettle' }],
        [RECEIVE, { sku: 'KETTLE', quantity: 1 }],
      ];
      for (const [query, input] of calls) {
        expect(errorCodes(await postGraphql(url, query, { input }, alice))).toEqual(['FORBIDDEN']);
        expect(errorCodes(await postGraphql(url, query, { input }))).toEqual(['UNAUTHENTICATED']);
      }
      expect(await log.count()).toBe(before);
    });

    it('refuses a bad token with 401 UNAUTHENTICATED', async () => {
      const forged = signToken({ subject: 'ada', roles: ['admin'], secret: 'not-the-server-secret-0123456789abcdef', expiresInSeconds: 60 });
      const r = await postGraphql(url, RECEIVE, { input: { sku: 'KETTLE', quantity: 1 } }, forged);
      expect(r.status).toBe(401);
      expect(errorCodes(r)).toEqual(['UNAUTHENTICATED']);
    });
  });

  it('lists, receives stock, places an order as a customer, and the process manager confirms it', async () => {
    const received = await postGraphql(url, RECEIVE, { input: { sku: 'KETTLE', quantity: 10 } }, admin);
    expect(received.body.data?.receiveStock).toMatchObject({ streamId: 'inventory-KETTLE', eventTypes: ['StockReceived'], duplicate: false });

    const placed = await postGraphql(url, PLACE, { input: { lines: [{ sku: 'KETTLE', quantity: 2, unitPrice: 2999 }], currency: 'EUR' } }, alice);
    expect(placed.body.errors).toBeUndefined();
    const payload = placed.body.data?.placeOrder as Record<string, unknown>;
    const orderId = String(payload.orderId);
    expect(payload).toMatchObject({ streamId: `order-${orderId}`, revision: '0', customerId: 'alice', total: 5998, status: 'PENDING', eventTypes: ['OrderPlaced'] });
    expect(decodeConsistencyToken(String(payload.consistencyToken))).toBe(BigInt(String(payload.position)));

    const events = await log.waitForStream(`order-${orderId}`, (e) => e.some((event) => event.type === 'OrderConfirmed'));
    expect(events.map((e) => e.type)).toEqual(['OrderPlaced', 'OrderConfirmed']);
    expect(events[0]?.metadata).toMatchObject({ actor: 'customer:alice' });
    expect(events[0]?.position).toBe(BigInt(String(payload.position)));
  });

  it("lets a customer cancel only their own order (the owner is read from the order stream)", async () => {
    const placed = await postGraphql(url, PLACE, { input: { lines: [{ sku: 'KETTLE', quantity: 1, unitPrice: 2999 }], currency: 'EUR' } }, alice);
    expect(placed.body.errors).toBeUndefined();
    const orderId = String((placed.body.data?.placeOrder as Record<string, unknown>).orderId);
    const before = (await log.stream(`order-${orderId}`)).filter((e) => e.type === 'OrderCancelled').length;
    // Another customer's order is answered as one that does not exist.
    expect(errorCodes(await postGraphql(url, CANCEL, { input: { orderId, reason: 'not mine' } }, bob))).toEqual(['KEEL_ERR_ORDER_NOT_FOUND']);
    expect((await log.stream(`order-${orderId}`)).filter((e) => e.type === 'OrderCancelled').length).toBe(before);
    // The process manager may confirm it first; then the cancellation is refused by the domain.
    const cancelled = await postGraphql(url, CANCEL, { input: { orderId, reason: 'changed my mind' } }, alice);
    const outcome = cancelled.body.errors === undefined ? (cancelled.body.data?.cancelOrder as Record<string, unknown>).status : errorCodes(cancelled)[0];
    expect(['CANCELLED', 'KEEL_ERR_ORDER_NOT_PENDING']).toContain(outcome);
  });

  it('is idempotent: the same key twice gives the same result and one set of events', async () => {
    const input = { lines: [{ sku: 'KETTLE', quantity: 1, unitPrice: 2999 }], currency: 'EUR', idempotencyKey: 'checkout-7' };
    const first = await postGraphql(url, PLACE, { input }, bob);
    const second = await postGraphql(url, PLACE, { input }, bob);
    const a = first.body.data?.placeOrder as Record<string, unknown>;
    expect(second.body.data?.placeOrder).toEqual({ ...a, duplicate: true });
    const events = await log.stream(String(a.streamId));
    expect(events.filter((e) => e.type === 'OrderPlaced')).toHaveLength(1);
    const receiveA = await postGraphql(url, RECEIVE, { input: { sku: 'KETTLE', quantity: 3, idempotencyKey: 'delivery-9' } }, admin);
    const receiveB = await postGraphql(url, RECEIVE, { input: { sku: 'KETTLE', quantity: 3, idempotencyKey: 'delivery-9' } }, admin);
    expect(receiveB.body.data?.receiveStock).toEqual({ ...(receiveA.body.data?.receiveStock as Record<string, unknown>), duplicate: true });
    const received = (await log.stream('inventory-KETTLE')).filter((e) => e.type === 'StockReceived' && (e.data as { quantity?: number }).quantity === 3);
    expect(received).toHaveLength(1);
  });

  it('runs the examples of README.md, "Try the API", as written (curl, jq, keel token)', async () => {
    const api = readmeSection('Try the API');
    const start = api.indexOf('<!-- api-examples:start -->');
    const end = api.indexOf('<!-- api-examples:end -->');
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const section = api.slice(start, end);
    const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(blocks).toHaveLength(2);
    const script = `set -euo pipefail\n${blocks.join('\n').replaceAll('http://127.0.0.1:4000', url)}`;
    const cwd = new URL('../../..', import.meta.url);
    const { stdout, stderr } = await promisify(execFile)('bash', ['-c', script], { cwd, env: { ...process.env, JWT_SECRET: E2E_JWT_SECRET } });
    expect(stderr).toBe('');
    const [listed, product, orders] = stdout.trim().split('\n').map((line): unknown => JSON.parse(line));
    expect(listed).toMatchObject({ data: { listProduct: { streamId: 'product-doc-kettle', revision: '0', duplicate: false } } });
    expect(product).toEqual({ data: { product: { name: 'Kettle', price: 2999, status: 'LISTED' } } });
    expect(orders).toMatchObject({ data: { myOrders: { edges: expect.any(Array), pageInfo: { hasNextPage: false } } } });
  });
});
