/**
 * Queries and subscriptions through the API on the real read side: the projector engine running the
 * read models on PostgreSQL, the Redis cache and its pub/sub. Writes go through the mutations;
 * reads carry the consistency token and see their writes at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadSide } from '../../../src/api/read-side-adapter.js';
import { createCacheChangeSink } from '../../../src/projections/cache/change-sink.js';
import type { ReadCache } from '../../../src/projections/cache/read-cache.js';
import { openRedisReadCache } from '../../../src/projections/cache/redis-cache.js';
import { startProjections } from '../../../src/projections/engine/index.js';
import type { Projections } from '../../../src/projections/engine/index.js';
import { readModels } from '../../../src/projections/read-models/index.js';
import { codes, gql, openApiHarness, silentLogger, tokenFor } from '../../support/api-app.js';
import type { ApiHarness } from '../../support/api-app.js';
import { subscribe, wsClient } from '../../support/api-ws.js';
import { redisTestPrefix, redisTestUrl } from '../../support/database.js';
import { openWriteSide } from '../../support/write-side.js';
import type { WriteSide } from '../../support/write-side.js';

const admin = tokenFor('ada', ['admin']);
const alice = tokenFor('alice', ['customer']);
const bob = tokenFor('bob', ['customer']);

const LIST = 'mutation ($input: ListProductInput!) { listProduct(input: $input) { consistencyToken } }';
const RECEIVE = 'mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { consistencyToken } }';
const PLACE = 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId consistencyToken } }';
const CANCEL = 'mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { consistencyToken } }';

const tokenOf = (response: Awaited<ReturnType<typeof gql>>, field: string): string => {
  const payload = response.body.data?.[field];
  if (typeof payload !== 'object' || payload === null || !('consistencyToken' in payload) || typeof payload.consistencyToken !== 'string') {
    throw new Error(`${field}: no consistency token in ${JSON.stringify(response.body)}`);
  }
  return payload.consistencyToken;
};

describe('GraphQL read path on the real read side (engine, read models, Redis cache)', () => {
  let side: WriteSide;
  let cache: ReadCache;
  let projections: Projections;
  let h: ApiHarness;
  let url: string;
  /** Alice's order from the orders test (ids are the server's). */
  let readOrderId = '';
  beforeAll(async () => {
    side = await openWriteSide('api_read_path');
    const logger = silentLogger();
    cache = await openRedisReadCache({ url: redisTestUrl(), keyPrefix: redisTestPrefix('api-read-path'), logger });
    projections = await startProjections({ handle: side.handle, store: side.store, projections: readModels, sink: createCacheChangeSink(cache), logger });
    const readSide = createReadSide({ db: side.handle.db, cache, watch: projections, status: () => projections.status() });
    // Generous: the PostgreSQL cluster is shared and a long transaction anywhere in it holds the
    // subscription horizon back; the timeout itself is tested below with 300 ms.
    h = await openApiHarness('api_read_path', { side, readSide, env: { CONSISTENCY_WAIT_MS: '30000' } });
    url = await h.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await h?.close();
    await projections?.stop();
    await cache?.close();
    await side?.close();
  });

  it('reads its own writes: a product queried with the mutation’s consistency token is there', async () => {
    const listed = await gql(h.app, LIST, { input: { productId: 'lamp', sku: 'LAMP', name: 'Desk lamp', price: 4500, currency: 'EUR' } }, admin);
    const product = await gql(h.app, 'query ($t: String) { product(id: "lamp", consistencyToken: $t) { id sku name price status available } }', { t: tokenOf(listed, 'listProduct') });
    expect(product.body).toEqual({ data: { product: { id: 'lamp', sku: 'LAMP', name: 'Desk lamp', price: 4500, status: 'LISTED', available: 0 } } });

    const received = await gql(h.app, RECEIVE, { input: { sku: 'LAMP', quantity: 7 } }, admin);
    const page = await gql(
      h.app,
      'query ($t: String) { products(first: 10, consistencyToken: $t) { edges { node { id availability { received available } } } pageInfo { hasNextPage endCursor } } }',
      { t: tokenOf(received, 'receiveStock') },
    );
    expect(page.body.errors).toBeUndefined();
    expect(page.body.data?.products).toMatchObject({ edges: [{ node: { id: 'lamp', availability: { received: 7, available: 7 } } }], pageInfo: { hasNextPage: false } });
    const board = await gql(h.app, 'query ($t: String) { flashSaleBoard(first: 5, consistencyToken: $t) { sku unitsLeft sold product { name } } }', {
      t: tokenOf(received, 'receiveStock'),
    });
    expect(board.body).toEqual({ data: { flashSaleBoard: [{ sku: 'LAMP', unitsLeft: 7, sold: 0, product: { name: 'Desk lamp' } }] } });
  });

  it("shows a customer their orders with lines and timeline; another customer's order reads as absent", async () => {
    const placed = await gql(h.app, PLACE, { input: { lines: [{ sku: 'LAMP', quantity: 2, unitPrice: 4500 }], currency: 'EUR' } }, alice);
    const t = tokenOf(placed, 'placeOrder');
    readOrderId = String((placed.body.data?.placeOrder as Record<string, unknown>).orderId);
    const mine = await gql(
      h.app,
      'query ($t: String) { myOrders(first: 5, consistencyToken: $t) { edges { node { id status total lines { sku quantity product { name } } timeline { type } } } } }',
      { t },
      alice,
    );
    expect(mine.body.errors).toBeUndefined();
    expect(mine.body.data?.myOrders).toEqual({
      edges: [{ node: { id: readOrderId, status: 'PENDING', total: 9000, lines: [{ sku: 'LAMP', quantity: 2, product: { name: 'Desk lamp' } }], timeline: [{ type: 'OrderPlaced' }] } }],
    });
    expect((await gql(h.app, 'query ($t: String) { myOrders(consistencyToken: $t) { edges { node { id } } } }', { t }, bob)).body.data?.myOrders).toEqual({ edges: [] });
    // Regression (issue #10): FORBIDDEN here told bob the id exists; now it answers as for no order.
    const ORDER = 'query ($id: ID!) { order(id: $id) { id customerId } }';
    const notHis = await gql(h.app, ORDER, { id: readOrderId }, bob);
    const absent = await gql(h.app, ORDER, { id: 'no-such-order' }, bob);
    expect(notHis.body).toEqual({ data: { order: null } });
    expect(notHis.body).toEqual(absent.body);
    expect((await gql(h.app, ORDER, { id: readOrderId }, admin)).body.data).toEqual({ order: { id: readOrderId, customerId: 'alice' } });
  });

  it('names the lagging projection when a token is not reached in time', async () => {
    const slow = await openApiHarness('api_read_path', {
      side,
      readSide: createReadSide({ db: side.handle.db, cache, watch: projections, status: () => projections.status() }),
      env: { CONSISTENCY_WAIT_MS: '300' },
    });
    try {
      const future = `v1.${Buffer.from('999999999999999999').toString('base64url')}`;
      const late = await gql(slow.app, 'query ($t: String) { product(id: "lamp", consistencyToken: $t) { id } }', { t: future });
      expect(late.body.errors?.[0]?.extensions?.code).toBe('KEEL_ERR_PROJECTION_LAG_TIMEOUT');
      expect(late.body.errors?.[0]?.message).toContain('"catalog"');
    } finally {
      await slow.app.close();
    }
  });

  it('reports projection status to admins only', async () => {
    const status = await gql(h.app, '{ projectionStatus { name state checkpoint lagEvents } }', undefined, admin);
    expect(status.body.errors).toBeUndefined();
    const names = (status.body.data?.projectionStatus as Array<{ name: string }>).map((s) => s.name);
    expect(names).toEqual(readModels.map((p) => p.name));
    expect(codes(await gql(h.app, '{ projectionStatus { name } }', undefined, alice))).toEqual(['FORBIDDEN']);
  });

  it('pushes availability changes and order status changes over graphql-ws, resuming from a token', async () => {
    const placed = await gql(h.app, PLACE, { input: { lines: [{ sku: 'LAMP', quantity: 1, unitPrice: 4500 }], currency: 'EUR' } }, alice);
    const after = tokenOf(placed, 'placeOrder');
    const orderId = String((placed.body.data?.placeOrder as Record<string, unknown>).orderId);
    // With `after`, a change committed before the subscription is registered is not lost either:
    // the current state is delivered first when it is newer than the token.
    const stock = subscribe(wsClient(url), 'subscription ($after: String) { availabilityChanged(sku: "LAMP", after: $after) { sku received available } }', { after });
    const status = subscribe(wsClient(url, alice), 'subscription ($after: String, $id: ID!) { orderStatusChanged(orderId: $id, after: $after) { id status } }', { after, id: orderId });
    try {
      await gql(h.app, RECEIVE, { input: { sku: 'LAMP', quantity: 5 } }, admin);
      expect(await stock.next(40_000)).toEqual({ data: { availabilityChanged: { sku: 'LAMP', received: 12, available: 12 } } });
      await gql(h.app, CANCEL, { input: { orderId, reason: 'too slow' } }, alice);
      expect(await status.next(40_000)).toEqual({ data: { orderStatusChanged: { id: orderId, status: 'CANCELLED' } } });
    } finally {
      await stock.close();
      await status.close();
    }
  });

  it("refuses a subscription to another customer's order exactly as one to no order", async () => {
    const SPY = 'subscription ($id: ID!) { orderStatusChanged(orderId: $id) { id status } }';
    const spy = subscribe(wsClient(url, bob), SPY, { id: readOrderId });
    const none = subscribe(wsClient(url, bob), SPY, { id: 'no-such-order' });
    try {
      const refusal = { error: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'KEEL_ERR_ORDER_NOT_FOUND' }), path: ['orderStatusChanged'] })] };
      expect(await spy.next()).toEqual(refusal);
      expect(await none.next()).toEqual(refusal);
    } finally {
      await spy.close();
      await none.close();
    }
  });

  it('refuses a subscription whose document the schema rejects, naming the field (KEEL_ERR_GRAPHQL_VALIDATION)', async () => {
    const bad = subscribe(wsClient(url), 'subscription { availabilityChanged(sku: "LAMP") { sku colour } }');
    try {
      expect(await bad.next()).toEqual({
        error: [expect.objectContaining({ message: expect.stringContaining('Cannot query field "colour" on type "Availability"'), extensions: expect.objectContaining({ code: 'KEEL_ERR_GRAPHQL_VALIDATION' }) })],
      });
    } finally {
      await bad.close();
    }
  });

  it('refuses subscriptions over a WebSocket connection whose token is bad (UNAUTHENTICATED)', async () => {
    const forged = tokenFor('alice', ['customer'], 'not-the-server-secret-0123456789abcdef');
    const refused = subscribe(wsClient(url, forged), 'subscription { availabilityChanged(sku: "LAMP") { sku } }');
    try {
      expect(await refused.next()).toEqual({
        error: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }), path: ['availabilityChanged'] })],
      });
    } finally {
      await refused.close();
    }
  });
});
