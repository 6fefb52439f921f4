/**
 * Paging through the GraphQL API on the real read side (projector engine, read models, in-process
 * cache): Relay connections whose edges each carry a cursor, the `myOrders` status filter, and the
 * flash-sale board ordered and limited in SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadSide } from '../../../src/api/read-side-adapter.js';
import { createCacheChangeSink } from '../../../src/projections/cache/change-sink.js';
import { createReadCache } from '../../../src/projections/cache/create-read-cache.js';
import type { ReadCache } from '../../../src/projections/cache/read-cache.js';
import { startProjections } from '../../../src/projections/engine/index.js';
import type { Projections } from '../../../src/projections/engine/index.js';
import { readModels } from '../../../src/projections/read-models/index.js';
import { codes, gql, openApiHarness, silentLogger, tokenFor } from '../../support/api-app.js';
import type { ApiHarness, GraphqlResponse } from '../../support/api-app.js';
import { openWriteSide } from '../../support/write-side.js';
import type { WriteSide } from '../../support/write-side.js';

const admin = tokenFor('ada', ['admin']);
const carol = tokenFor('carol', ['customer']);

interface Edge {
  readonly cursor: string;
  readonly node: { readonly id: string; readonly status?: string };
}
interface Connection {
  readonly edges: readonly Edge[];
  readonly pageInfo: { readonly hasNextPage: boolean; readonly startCursor: string | null; readonly endCursor: string | null };
}

const connection = (response: GraphqlResponse, field: string): Connection => {
  expect(response.body.errors).toBeUndefined();
  return response.body.data?.[field] as Connection;
};
/** Order ids are the server's: the setup names Carol's orders o1..o5 by their ids. */
const orderNames = new Map<string, string>();
const named = (id: string): string => orderNames.get(id) ?? id;
const ids = (page: Connection): string[] => page.edges.map((edge) => named(edge.node.id));

const tokenOf = (response: GraphqlResponse, field: string): string => {
  const payload = response.body.data?.[field];
  if (typeof payload !== 'object' || payload === null || !('consistencyToken' in payload) || typeof payload.consistencyToken !== 'string') {
    throw new Error(`${field}: no consistency token in ${JSON.stringify(response.body)}`);
  }
  return payload.consistencyToken;
};

const PRODUCTS = `query ($first: Int, $after: String, $t: String) {
  products(first: $first, after: $after, consistencyToken: $t) { edges { cursor node { id } } pageInfo { hasNextPage startCursor endCursor } }
}`;
const MY_ORDERS = `query ($first: Int, $after: String, $status: OrderStatus, $t: String) {
  myOrders(first: $first, after: $after, status: $status, consistencyToken: $t) { edges { cursor node { id status } } pageInfo { hasNextPage startCursor endCursor } }
}`;

describe('GraphQL paging on the real read side', () => {
  let side: WriteSide;
  let cache: ReadCache;
  let projections: Projections;
  let h: ApiHarness;
  /** The token of the last write of the setup: every read below waits for it. */
  let t: string;

  const mutate = async (query: string, input: Record<string, unknown>, token: string, field: string): Promise<string> => {
    const response = await gql(h.app, query, { input }, token);
    return tokenOf(response, field);
  };

  beforeAll(async () => {
    side = await openWriteSide('api_paging');
    const logger = silentLogger();
    cache = await createReadCache({ redisUrl: undefined, keyPrefix: 'api-paging:', logger });
    projections = await startProjections({ handle: side.handle, store: side.store, projections: readModels, sink: createCacheChangeSink(cache), logger });
    const readSide = createReadSide({ db: side.handle.db, cache, watch: projections, status: () => projections.status() });
    // Generous: the PostgreSQL cluster is shared and a long transaction anywhere in it holds the
    // subscription horizon back.
    // Each write a second after the last: "newest first" never rests on random order ids.
    let tick = Date.parse('2026-12-01T10:00:00.000Z');
    const clock = () => new Date((tick += 1000));
    h = await openApiHarness('api_paging', { side, readSide, env: { CONSISTENCY_WAIT_MS: '30000' }, clock });

    // Five products, A to E by name; flash-sale stock 10, 9, 9, 100 and 3 (as numbers, not text).
    const stock: ReadonlyArray<readonly [string, number]> = [['A', 10], ['B', 9], ['C', 9], ['D', 100], ['E', 3]];
    for (const [letter, units] of stock) {
      await mutate('mutation ($input: ListProductInput!) { listProduct(input: $input) { consistencyToken } }', {
        productId: `p-${letter}`, sku: `SKU-${letter}`, name: `Item ${letter}`, price: 100, currency: 'EUR',
      }, admin, 'listProduct');
      await mutate('mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { consistencyToken } }', { sku: `SKU-${letter}`, quantity: units }, admin, 'receiveStock');
    }
    // Carol's orders o1..o5 (o5 newest); o2 and o4 cancelled.
    const idOf = new Map<string, string>();
    for (const n of [1, 2, 3, 4, 5]) {
      const placed = await gql(h.app, 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId consistencyToken } }', {
        input: { lines: [{ sku: 'SKU-A', quantity: 1, unitPrice: 100 }], currency: 'EUR' },
      }, carol);
      t = tokenOf(placed, 'placeOrder');
      const orderId = (placed.body.data?.placeOrder as { orderId: string }).orderId;
      orderNames.set(orderId, `o${n}`);
      idOf.set(`o${n}`, orderId);
    }
    for (const name of ['o2', 'o4']) {
      t = await mutate('mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { consistencyToken } }', { orderId: idOf.get(name), reason: 'changed my mind' }, carol, 'cancelOrder');
    }
  });
  afterAll(async () => {
    await h?.close();
    await projections?.stop();
    await cache?.close();
    await side?.close();
  });

  it("gives every edge a cursor; paging with an edge's cursor continues right after that edge", async () => {
    const page = connection(await gql(h.app, PRODUCTS, { first: 3, t }), 'products');
    expect(ids(page)).toEqual(['p-A', 'p-B', 'p-C']);
    expect(new Set(page.edges.map((edge) => edge.cursor)).size).toBe(3);
    expect(page.pageInfo).toEqual({ hasNextPage: true, startCursor: page.edges[0]?.cursor, endCursor: page.edges[2]?.cursor });

    const afterFirst = connection(await gql(h.app, PRODUCTS, { first: 3, after: page.edges[0]?.cursor }), 'products');
    expect(ids(afterFirst)).toEqual(['p-B', 'p-C', 'p-D']);
    // The same item has the same cursor on every page it appears on.
    expect(afterFirst.edges.slice(0, 2).map((edge) => edge.cursor)).toEqual(page.edges.slice(1).map((edge) => edge.cursor));

    const last = connection(await gql(h.app, PRODUCTS, { first: 3, after: page.pageInfo.endCursor }), 'products');
    expect(ids(last)).toEqual(['p-D', 'p-E']);
    expect(last.pageInfo).toEqual({ hasNextPage: false, startCursor: last.edges[0]?.cursor, endCursor: last.edges[1]?.cursor });

    const beyond = connection(await gql(h.app, PRODUCTS, { first: 3, after: last.pageInfo.endCursor }), 'products');
    expect(beyond).toEqual({ edges: [], pageInfo: { hasNextPage: false, startCursor: null, endCursor: null } });
  });

  it("pages a customer's orders, newest first, by edge cursor", async () => {
    const page = connection(await gql(h.app, MY_ORDERS, { first: 2, t }, carol), 'myOrders');
    expect(ids(page)).toEqual(['o5', 'o4']);
    const afterFirst = connection(await gql(h.app, MY_ORDERS, { first: 10, after: page.edges[0]?.cursor }, carol), 'myOrders');
    expect(ids(afterFirst)).toEqual(['o4', 'o3', 'o2', 'o1']);
    expect(afterFirst.pageInfo.hasNextPage).toBe(false);
  });

  it('filters myOrders by status, paging within the filter', async () => {
    const cancelled = connection(await gql(h.app, MY_ORDERS, { first: 1, status: 'CANCELLED', t }, carol), 'myOrders');
    expect(cancelled.edges.map((edge) => ({ ...edge.node, id: named(edge.node.id) }))).toEqual([{ id: 'o4', status: 'CANCELLED' }]);
    expect(cancelled.pageInfo.hasNextPage).toBe(true);
    const more = connection(await gql(h.app, MY_ORDERS, { first: 1, status: 'CANCELLED', after: cancelled.pageInfo.endCursor }, carol), 'myOrders');
    expect(more.edges.map((edge) => ({ ...edge.node, id: named(edge.node.id) }))).toEqual([{ id: 'o2', status: 'CANCELLED' }]);
    expect(more.pageInfo.hasNextPage).toBe(false);

    const pending = connection(await gql(h.app, MY_ORDERS, { first: 10, status: 'PENDING' }, carol), 'myOrders');
    expect(ids(pending)).toEqual(['o5', 'o3', 'o1']);
    expect(ids(connection(await gql(h.app, MY_ORDERS, { first: 10, status: 'CONFIRMED' }, carol), 'myOrders'))).toEqual([]);
    // Without a status: every order.
    expect(ids(connection(await gql(h.app, MY_ORDERS, { first: 10 }, carol), 'myOrders'))).toEqual(['o5', 'o4', 'o3', 'o2', 'o1']);
    // A status that is not an OrderStatus is refused (a bad variable value).
    expect(codes(await gql(h.app, MY_ORDERS, { status: 'SHIPPED' }, carol))).toEqual(['KEEL_ERR_VALIDATION']);
  });

  it('a read with a consistency token never takes an older cache entry (the cache is written after the commit is announced)', async () => {
    // A cache no projector writes to: it keeps whatever a read put there, as a cache does between
    // a commit being announced and the projector's change sink updating it.
    const lagging = await createReadCache({ redisUrl: undefined, keyPrefix: 'api-paging-lagging:', logger: silentLogger() });
    const other = await openApiHarness('api_paging', {
      side,
      readSide: createReadSide({ db: side.handle.db, cache: lagging, watch: projections, status: () => projections.status() }),
      env: { CONSISTENCY_WAIT_MS: '30000' },
    });
    try {
      const query = 'query ($t: String) { product(id: "p-D", consistencyToken: $t) { price availability { received } } }';
      expect((await gql(other.app, query, { t })).body).toEqual({ data: { product: { price: 100, availability: { received: 100 } } } });
      const repriced = await mutate('mutation ($input: ChangePriceInput!) { changePrice(input: $input) { consistencyToken } }', { productId: 'p-D', price: 120 }, admin, 'changePrice');
      expect((await gql(other.app, query, { t: repriced })).body).toEqual({ data: { product: { price: 120, availability: { received: 100 } } } });
      const restocked = await mutate('mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { consistencyToken } }', { sku: 'SKU-D', quantity: 1 }, admin, 'receiveStock');
      expect((await gql(other.app, query, { t: restocked })).body).toEqual({ data: { product: { price: 120, availability: { received: 101 } } } });
      expect((await gql(other.app, '{ flashSaleBoard(first: 1) { sku } }')).body).toEqual({ data: { flashSaleBoard: [{ sku: 'SKU-E' }] } });
    } finally {
      await other.app.close();
      await lagging.close();
    }
  });

  it('lists the flash-sale board fewest units left first (ties by SKU), first entries only', async () => {
    // Carol's five orders are placed only (no process manager here): nothing is reserved.
    const board = await gql(h.app, 'query ($t: String) { flashSaleBoard(first: 4, consistencyToken: $t) { sku unitsLeft } }', { t });
    expect(board.body).toEqual({
      data: {
        flashSaleBoard: [
          { sku: 'SKU-E', unitsLeft: 3 },
          { sku: 'SKU-B', unitsLeft: 9 },
          { sku: 'SKU-C', unitsLeft: 9 },
          { sku: 'SKU-A', unitsLeft: 10 },
        ],
      },
    });
    const top = await gql(h.app, '{ flashSaleBoard(first: 1) { sku } }');
    expect(top.body).toEqual({ data: { flashSaleBoard: [{ sku: 'SKU-E' }] } });
  });
});
