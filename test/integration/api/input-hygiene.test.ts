/**
 * Issue #10, input hygiene at the API edge: a NUL character or invalid Unicode (a lone surrogate)
 * in any string input, literal or variable, over POST, GET or WebSocket, is refused as a
 * validation error naming the input (KEEL_ERR_VALIDATION, HTTP 400) before it reaches PostgreSQL,
 * which would fail on it unexpectedly (KEEL_ERR_INTERNAL, an error log with a stack per request).
 * And in production no error suggests schema names ("Did you mean …"), variables' included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeStreamOptions, ReadSide } from '../../../src/api/read-side.js';
import { codes, gql, openApiHarness, tokenFor } from '../../support/api-app.js';
import type { ApiHarness, GraphqlResponse } from '../../support/api-app.js';
import { initRawSocket } from '../../support/api-ws-raw.js';
import type { RawGraphqlSocket } from '../../support/api-ws-raw.js';
import { openWriteSide } from '../../support/write-side.js';
import type { WriteSide } from '../../support/write-side.js';

const alice = tokenFor('alice', ['customer']);
const admin = tokenFor('ada', ['admin']);

const NUL = 'a\u0000b';
const LONE_SURROGATE = 'a\ud800b';
const REFUSED = 'must not contain NUL characters or invalid Unicode';

const CANCEL = 'mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { streamId } }';
const LIST = 'mutation ($input: ListProductInput!) { listProduct(input: $input) { streamId } }';

/** A read side that records what reached it: nothing refused at the edge may. */
const recordingReadSide = (): ReadSide & { readonly reached: string[] } => {
  const reached: string[] = [];
  const record = (what: string): never => {
    reached.push(what);
    throw new Error(`${what}: the read side was reached`);
  };
  return {
    reached,
    products: async (args) => record(`products ${JSON.stringify(args.filter)}`),
    productsById: async (ids) => record(`productsById ${ids.join()}`),
    availability: async (skus) => record(`availability ${skus.join()}`),
    flashSaleBoard: async () => record('flashSaleBoard'),
    ordersOfCustomer: async () => record('ordersOfCustomer'),
    ordersById: async (ids) => record(`ordersById ${ids.join()}`),
    projectionStatus: async () => record('projectionStatus'),
    waitFor: async () => undefined,
    orderChanges: (orderId: string, _options: ChangeStreamOptions) => record(`orderChanges ${orderId}`),
    availabilityChanges: (sku: string, _options: ChangeStreamOptions) => record(`availabilityChanges ${sku}`),
    checkHealthy: async () => undefined,
  };
};

const refusal = (response: GraphqlResponse, field: string): void => {
  expect(response.status).toBe(400);
  expect(response.body.errors).toHaveLength(1);
  expect(response.body.errors?.[0]).toMatchObject({ message: expect.stringContaining(REFUSED), extensions: { code: 'KEEL_ERR_VALIDATION', field } });
};

describe('input hygiene at the API edge', () => {
  let side: WriteSide;
  const harnesses: ApiHarness[] = [];
  const sockets: RawGraphqlSocket[] = [];
  let h: ApiHarness;
  let readSide: ReturnType<typeof recordingReadSide>;
  beforeAll(async () => {
    side = await openWriteSide('api_input_hygiene');
    readSide = recordingReadSide();
    h = await openApiHarness('api_input_hygiene', { side, readSide });
    harnesses.push(h);
  });
  afterAll(async () => {
    for (const socket of sockets) await socket.close();
    for (const harness of harnesses) await harness.close();
    await side?.close();
  });

  it('refuses NUL and lone surrogates in POST variables, naming the variable path (400, KEEL_ERR_VALIDATION)', async () => {
    refusal(await gql(h.app, CANCEL, { input: { orderId: 'o-1', reason: NUL } }, alice), 'input.reason');
    refusal(await gql(h.app, CANCEL, { input: { orderId: LONE_SURROGATE, reason: 'late' } }, alice), 'input.orderId');
    refusal(await gql(h.app, LIST, { input: { productId: 'p-1', sku: 'SKU-1', name: `Lamp ${NUL}`, price: 100, currency: 'EUR' } }, admin), 'input.name');
    // In a list, the index is named; a read-side argument is covered as well.
    const place = 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }';
    refusal(await gql(h.app, place, { input: { lines: [{ sku: 'A', quantity: 1, unitPrice: 1 }, { sku: NUL, quantity: 1, unitPrice: 1 }], currency: 'EUR' } }, alice), 'input.lines[1].sku');
    refusal(await gql(h.app, 'query ($f: ProductFilter) { products(first: 1, filter: $f) { edges { node { id } } } }', { f: { nameContains: NUL } }), 'f.nameContains');
    expect(readSide.reached).toEqual([]);
    // Clean input goes on as before, through the same (now known) texts.
    expect(codes(await gql(h.app, CANCEL, { input: { orderId: 'o-nowhere', reason: 'late' } }, alice))).not.toContain('KEEL_ERR_VALIDATION');
    expect(codes(await gql(h.app, '{ __typename }'))).toEqual([]);
  });

  it('refuses them in GET variables', async () => {
    const query = 'query ($sku: String!) { availability(sku: $sku) { sku } }';
    const response = await h.app.inject({ method: 'GET', url: `/graphql?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(JSON.stringify({ sku: NUL }))}` });
    refusal({ status: response.statusCode, headers: response.headers, body: response.json() }, 'sku');
    expect(readSide.reached).toEqual([]);
  });

  it('refuses a NUL in a string literal of the document, naming the argument', async () => {
    refusal(await gql(h.app, '{ products(first: 1, filter: { nameContains: "a\\u0000b" }) { edges { node { id } } } }'), 'filter.nameContains');
    refusal(await gql(h.app, '{ availability(sku: "\\u0000") { sku } }'), 'sku');
    expect(readSide.reached).toEqual([]);
  });

  it('refuses them in subscription variables and literals over WebSocket', async () => {
    const url = await h.app.listen({ port: 0, host: '127.0.0.1' });
    const { socket } = await initRawSocket(url);
    sockets.push(socket);
    socket.subscribe('v', 'subscription ($sku: String!) { availabilityChanged(sku: $sku) { sku } }', { sku: NUL });
    const variable = await socket.next('v');
    expect(variable).toMatchObject({ type: 'error', payload: [{ message: expect.stringContaining(REFUSED), extensions: { code: 'KEEL_ERR_VALIDATION', field: 'sku' } }] });
    socket.subscribe('s', 'subscription ($sku: String!) { availabilityChanged(sku: $sku) { sku } }', { sku: LONE_SURROGATE });
    expect(await socket.next('s')).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'KEEL_ERR_VALIDATION', field: 'sku' } }] });
    socket.subscribe('l', 'subscription { availabilityChanged(sku: "\\u0000") { sku } }');
    expect(await socket.next('l')).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'KEEL_ERR_VALIDATION', field: 'sku' } }] });
    expect(readSide.reached).toEqual([]);
  });

  it('suggests no schema names in production, variables and enums included', async () => {
    const prod = await openApiHarness('api_input_hygiene', { side, env: { NODE_ENV: 'production' } });
    harnesses.push(prod);
    const dev = await openApiHarness('api_input_hygiene', { side, env: { NODE_ENV: 'development' } });
    harnesses.push(dev);
    const byStatus = 'query ($s: OrderStatus) { myOrders(status: $s) { edges { node { id } } } }';
    const cases: Array<[string, Record<string, unknown>]> = [
      [byStatus, { s: 'PENDNG' }],
      [CANCEL, { input: { orderId: 'o-1', reasn: 'late' } }],
      [CANCEL, { input: { orderId: 'o-1', reason: 'late', idempotencyKy: 'k' } }],
    ];
    for (const [query, variables] of cases) {
      const leaky = await gql(dev.app, query, variables, alice);
      expect(JSON.stringify(leaky.body.errors)).toContain('Did you mean');
      const response = await gql(prod.app, query, variables, alice);
      expect(response.status).toBe(400);
      expect(codes(response)).toEqual(expect.arrayContaining(['KEEL_ERR_VALIDATION']));
      const text = JSON.stringify(response.body.errors);
      expect(text).not.toMatch(/did you mean/i);
      expect(text).not.toMatch(/"PENDING"|"reason"|"idempotencyKey"/);
    }
    // Document errors too, however many.
    const typos = await gql(prod.app, '{ prodcts { edges { node { id } } } availabilty(sku: "A") { sku } }');
    expect(typos.body.errors?.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(typos.body.errors)).not.toMatch(/did you mean/i);
  });
});
