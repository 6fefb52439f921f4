/**
 * Issue #10, the WebSocket edge: subscriptions are held to the HTTP limits per message (body size,
 * QUERY_MAX_COST with their variables), a socket holds at most WS_MAX_SUBSCRIPTIONS_PER_SOCKET
 * subscriptions and a client at most WS_MAX_SOCKETS_PER_CLIENT sockets per process, an error
 * raised after a subscription started is coded, masked and logged like one over HTTP, and a socket
 * does not outlive its token (closed at its expiry; each new subscription re-verifies the header).
 *
 * The read side is a stand-in (change streams on demand, failures on demand) so each case controls
 * exactly what a subscription's source does; the same path with a real PostgreSQL failure (the
 * read side's role loses its grant mid-subscription) is tested in api-path-separation.test.ts.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../../src/api/app.js';
import type { AvailabilityView, ChangeStreamOptions, OrderDetail, ReadSide } from '../../../src/api/read-side.js';
import { CONNECTION_INIT_TIMEOUT_MS } from '../../../src/api/graphql/ws-edge.js';
import { apiSettingsOf } from '../../../src/api/settings.js';
import { createApiWriteSide } from '../../../src/api/write-side.js';
import { loadConfig } from '../../../src/platform/config.js';
import { createLogger } from '../../../src/platform/logger.js';
import { NO_SHEDDING, TEST_JWT_SECRET, tokenFor } from '../../support/api-app.js';
import { initRawSocket, openRawSocket } from '../../support/api-ws-raw.js';
import type { RawGraphqlSocket, WsMessage } from '../../support/api-ws-raw.js';
import { commandsOn, openWriteSide } from '../../support/write-side.js';
import type { WriteSide } from '../../support/write-side.js';

const alice = tokenFor('alice', ['customer']);
const bob = tokenFor('bob', ['customer']);

const availabilityOf = (sku: string): AvailabilityView => ({ sku, productId: null, received: 5, reserved: 0, sold: 0, available: 5, updatedPosition: 7n });

const ORDER: OrderDetail = {
  orderId: 'o-1',
  customerId: 'alice',
  status: 'pending',
  paymentStatus: 'none',
  total: 4500,
  currency: 'EUR',
  lineCount: 1,
  placedAt: '2026-01-01T00:00:00.000Z',
  updatedPosition: 9n,
  confirmedAt: null,
  cancelledAt: null,
  cancelReason: null,
  payment: { paymentId: null, status: 'none', amount: null, refunded: 0, failureReason: null },
  lines: [{ sku: 'LAMP', quantity: 1, unitPrice: 4500, lineTotal: 4500, stockStatus: 'reserved' }],
  timeline: [],
};

/** What PostgreSQL said about a NUL byte (what reached the client raw before). */
const pgError = (): Error => Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });

/** Yields `first` values, then waits until the subscription ends (its signal aborts). */
async function* changes<T>(first: readonly T[], signal: AbortSignal, failAfter = false): AsyncGenerator<T> {
  for (const value of first) yield value;
  if (failAfter) throw pgError();
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

interface StandIn extends ReadSide {
  /** The SKUs `availabilityChanges` was asked for. */
  readonly watched: string[];
}

/**
 * The read side: availability changes deliver the SKU's state once, then wait; the SKU "BOOM"
 * delivers once, then fails like PostgreSQL would. An order's line products fail like SQL would.
 */
const standIn = (): StandIn => {
  const unused = (): never => {
    throw new Error('not used by these tests');
  };
  const watched: string[] = [];
  return {
    watched,
    products: unused,
    productsById: unused,
    availability: () => Promise.reject(new Error('relation "catalog_availability" does not exist (SELECT sku FROM catalog_availability)')),
    flashSaleBoard: unused,
    ordersOfCustomer: unused,
    ordersById: async (ids) => new Map(ids.filter((id) => id === ORDER.orderId).map((id) => [id, ORDER] as const)),
    projectionStatus: unused,
    waitFor: async () => undefined,
    orderChanges: (_orderId: string, { signal }: ChangeStreamOptions) => changes([ORDER], signal),
    availabilityChanges: (sku: string, { signal }: ChangeStreamOptions) => {
      watched.push(sku);
      return changes([availabilityOf(sku)], signal, sku === 'BOOM');
    },
    checkHealthy: async () => undefined,
  };
};

interface Served {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly readSide: StandIn;
  readonly logs: Array<Record<string, unknown>>;
}

const SKU_SUBSCRIPTION = 'subscription ($sku: String!) { availabilityChanged(sku: $sku) { sku available } }';

/** `count` aliases of `sku` in one availability subscription. */
const aliased = (count: number, gated = false): string =>
  `subscription${gated ? ' ($all: Boolean!)' : ''} { availabilityChanged(sku: "LAMP") { ${Array.from({ length: count }, (_, i) => `a${i}: sku${gated ? ' @include(if: $all)' : ''}`).join(' ')} } }`;

const errorsOf = (message: WsMessage): Array<{ readonly message: string; readonly extensions?: Record<string, unknown> }> => {
  expect(message.type).toBe('error');
  if (!Array.isArray(message.payload)) throw new Error(`an error message carries a list: ${JSON.stringify(message)}`);
  return message.payload as Array<{ readonly message: string; readonly extensions?: Record<string, unknown> }>;
};

describe('the WebSocket edge: limits, caps, errors after start, token lifetime', () => {
  let side: WriteSide;
  const apps: FastifyInstance[] = [];
  const sockets: RawGraphqlSocket[] = [];
  beforeAll(async () => {
    side = await openWriteSide('api_ws_edge');
  });
  afterAll(async () => {
    for (const socket of sockets) await socket.close();
    for (const app of apps) await app.close();
    await side?.close();
  });

  const serve = async (env: Record<string, string> = {}): Promise<Served> => {
    const logs: Array<Record<string, unknown>> = [];
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const config = loadConfig({ ...NO_SHEDDING, NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'info', ...env });
    const { handler, commerce } = commandsOn(side.store);
    const readSide = standIn();
    const app = buildApp({
      logger: createLogger(config, capture),
      health: async () => ({ database: 'ok' }),
      api: { settings: apiSettingsOf(config), write: createApiWriteSide(handler, commerce), readSide, ready: async () => ({ database: 'ok' }) },
    });
    apps.push(app);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, app, readSide, logs };
  };
  /** keel_rate_limit_refusals_total{limit} as the app's /metrics shows it (the registry is the process'). */
  const refusalsOf = async (app: FastifyInstance, limit: string): Promise<number> => {
    const { body } = await app.inject({ method: 'GET', url: '/metrics' });
    const line = body.split('\n').find((l) => l.startsWith('keel_rate_limit_refusals_total{') && l.includes(`limit="${limit}"`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };
  const connect = async (url: string, token?: string): Promise<RawGraphqlSocket> => {
    const { socket, acked, closed } = await initRawSocket(url, token);
    sockets.push(socket);
    if (!acked) throw new Error(`connection refused: ${JSON.stringify(closed)}`);
    return socket;
  };

  it('closes a socket whose message is larger than BODY_LIMIT_BYTES, with a close reason carrying KEEL_ERR_BODY_TOO_LARGE', async () => {
    const { url, readSide } = await serve({ BODY_LIMIT_BYTES: '102400' });
    const socket = await connect(url);
    const query = aliased(20_000);
    expect(query.length).toBeGreaterThan(200_000);
    socket.subscribe('big', query);
    const closed = await socket.closed(5_000);
    expect(closed.code).toBe(4413);
    expect(closed.reason).toMatch(/^KEEL_ERR_BODY_TOO_LARGE/);
    expect(readSide.watched).toEqual([]);
    // A message within the limit is served as before.
    const small = await connect(url);
    small.subscribe('s', SKU_SUBSCRIPTION, { sku: 'LAMP' });
    expect(await small.next('s')).toMatchObject({ type: 'next', payload: { data: { availabilityChanged: { sku: 'LAMP', available: 5 } } } });
  });

  it('refuses a subscription whose cost exceeds QUERY_MAX_COST (20,000 aliases), measured with its variables, and keeps the socket', async () => {
    const { url, app, readSide } = await serve({ BODY_LIMIT_BYTES: '1048576' });
    const socket = await connect(url);
    socket.subscribe('costly', aliased(20_000));
    const [error] = errorsOf(await socket.next('costly'));
    expect(error?.extensions).toMatchObject({ code: 'KEEL_ERR_QUERY_TOO_COSTLY', limit: 2000 });
    expect(readSide.watched).toEqual([]);
    // The cost follows the variables (`@include(if: $all)`), as over HTTP: the same text is
    // refused with $all true and served with $all false, whichever came first.
    const gated = aliased(3_000, true);
    socket.subscribe('cheap', gated, { all: false });
    expect(await socket.next('cheap')).toMatchObject({ type: 'next', payload: { data: { availabilityChanged: {} } } });
    socket.subscribe('dear', gated, { all: true });
    expect(errorsOf(await socket.next('dear'))[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_QUERY_TOO_COSTLY' });
    expect(socket.isOpen()).toBe(true);
    // Over HTTP, the same selection is refused alike (it used to fail inside the cost rule).
    const query = `{ availability(sku: "LAMP") { ${Array.from({ length: 20_000 }, (_, i) => `a${i}: sku`).join(' ')} } }`;
    const http = await app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ query }) });
    expect(http.statusCode).toBe(400);
    expect(http.json().errors[0].extensions).toMatchObject({ code: 'KEEL_ERR_QUERY_TOO_COSTLY', limit: 2000 });
  });

  it('caps subscriptions per socket (WS_MAX_SUBSCRIPTIONS_PER_SOCKET): one more is refused, the socket stays usable, completing one frees a slot', async () => {
    const { url, app } = await serve({ WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '3' });
    const refusedBefore = await refusalsOf(app, 'websocket_subscriptions');
    const socket = await connect(url);
    for (const id of ['1', '2', '3']) {
      socket.subscribe(id, SKU_SUBSCRIPTION, { sku: `S${id}` });
      expect((await socket.next(id)).type).toBe('next');
    }
    socket.subscribe('4', SKU_SUBSCRIPTION, { sku: 'S4' });
    const [refused] = errorsOf(await socket.next('4'));
    expect(refused?.extensions).toMatchObject({ code: 'KEEL_ERR_TOO_MANY_SUBSCRIPTIONS', limit: 3 });
    expect(socket.isOpen()).toBe(true);
    socket.complete('2');
    socket.subscribe('5', SKU_SUBSCRIPTION, { sku: 'S5' });
    expect(await socket.next('5')).toMatchObject({ type: 'next', payload: { data: { availabilityChanged: { sku: 'S5' } } } });
    // A refused subscription holds no slot either.
    socket.subscribe('6', SKU_SUBSCRIPTION, { sku: 'S6' });
    expect(errorsOf(await socket.next('6'))[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_TOO_MANY_SUBSCRIPTIONS' });
    // Both refusals are counted, as refusals of that limit.
    expect((await refusalsOf(app, 'websocket_subscriptions')) - refusedBefore).toBe(2);
    // Another socket has its own slots.
    const other = await connect(url);
    other.subscribe('1', SKU_SUBSCRIPTION, { sku: 'S1' });
    expect((await other.next('1')).type).toBe('next');
  });

  it('caps sockets per client (WS_MAX_SOCKETS_PER_CLIENT, by token subject, else by IP): one more is closed with KEEL_ERR_TOO_MANY_SOCKETS; closing one frees its slot', async () => {
    const { url, app } = await serve({ WS_MAX_SOCKETS_PER_CLIENT: '2' });
    const refusedBefore = await refusalsOf(app, 'websocket_sockets');
    const first = await connect(url, alice);
    await connect(url, alice);
    const third = await initRawSocket(url, alice);
    sockets.push(third.socket);
    expect(third.acked).toBe(false);
    expect(third.closed?.code).toBe(4429);
    expect(third.closed?.reason).toMatch(/^KEEL_ERR_TOO_MANY_SOCKETS/);
    // Another subject, and anonymous sockets (keyed by IP), count apart.
    await connect(url, bob);
    await connect(url);
    await connect(url);
    const anonymous = await initRawSocket(url);
    sockets.push(anonymous.socket);
    expect(anonymous.closed?.reason).toMatch(/^KEEL_ERR_TOO_MANY_SOCKETS/);
    expect((await refusalsOf(app, 'websocket_sockets')) - refusedBefore).toBe(2);
    // Closing a socket frees its slot.
    await first.close();
    await vi.waitFor(async () => {
      const again = await initRawSocket(url, alice);
      sockets.push(again.socket);
      expect(again.acked).toBe(true);
    });
  });

  it('closes a socket that never sends connection_init (4408), so uncounted sockets cannot pile up', async () => {
    const { url } = await serve();
    const idle = await openRawSocket(url);
    sockets.push(idle);
    const closed = await idle.closed(CONNECTION_INIT_TIMEOUT_MS + 2_000);
    expect(closed).toMatchObject({ code: 4408 });
  });

  it('masks, codes and logs an error the source raises after the subscription started (production)', async () => {
    const { url, logs } = await serve({ NODE_ENV: 'production', JWT_SECRET: TEST_JWT_SECRET });
    const socket = await connect(url);
    socket.subscribe('boom', SKU_SUBSCRIPTION, { sku: 'BOOM' });
    expect((await socket.next('boom')).type).toBe('next');
    const [error] = errorsOf(await socket.next('boom'));
    expect(error).toMatchObject({ message: 'Internal server error.', extensions: { code: 'KEEL_ERR_INTERNAL' } });
    expect(JSON.stringify(error)).not.toContain('UTF8');
    const logged = logs.find((l) => l.level === 'error' && JSON.stringify(l).includes('0x00'));
    expect(logged).toBeDefined();
    expect(JSON.stringify(logged)).toMatch(/\\n\s+at /);
    expect(socket.isOpen()).toBe(true);
  });

  it('codes an error the source raises after start outside production too, with its message', async () => {
    const { url } = await serve();
    const socket = await connect(url);
    socket.subscribe('boom', SKU_SUBSCRIPTION, { sku: 'BOOM' });
    await socket.next('boom');
    const [error] = errorsOf(await socket.next('boom'));
    expect(error).toMatchObject({ message: expect.stringContaining('0x00'), extensions: { code: 'KEEL_ERR_INTERNAL' } });
    expect(JSON.stringify(error)).not.toMatch(/\\n\s+at /);
  });

  it('masks, codes and logs an error raised while resolving a pushed value (production)', async () => {
    const { url, logs } = await serve({ NODE_ENV: 'production', JWT_SECRET: TEST_JWT_SECRET });
    const socket = await connect(url, alice);
    socket.subscribe('order', 'subscription { orderStatusChanged(orderId: "o-1") { id lines { sku product { name } } } }');
    const pushed = await socket.next('order');
    expect(pushed).toMatchObject({
      type: 'next',
      payload: {
        data: { orderStatusChanged: { id: 'o-1', lines: [{ sku: 'LAMP', product: null }] } },
        errors: [{ message: 'Internal server error.', path: ['orderStatusChanged', 'lines', 0, 'product'], extensions: { code: 'KEEL_ERR_INTERNAL' } }],
      },
    });
    expect(JSON.stringify(pushed)).not.toContain('catalog_availability');
    const logged = logs.find((l) => l.level === 'error' && JSON.stringify(l).includes('catalog_availability'));
    expect(JSON.stringify(logged)).toMatch(/\\n\s+at /);
  });

  it('closes a socket when its token expires (4401, UNAUTHENTICATED)', async () => {
    const { url } = await serve();
    const shortLived = tokenFor('carol', ['customer'], TEST_JWT_SECRET, 2);
    const socket = await connect(url, shortLived);
    socket.subscribe('s', SKU_SUBSCRIPTION, { sku: 'LAMP' });
    expect((await socket.next('s')).type).toBe('next');
    const closed = await socket.closed(5_000);
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/UNAUTHENTICATED.*expired/);
  });

  it('re-verifies the bearer header on each new subscription: a token revoked meanwhile refuses new operations', async () => {
    const { app, url } = await serve();
    const dave = tokenFor('dave', ['customer']);
    const socket = await connect(url, dave);
    socket.subscribe('before', SKU_SUBSCRIPTION, { sku: 'LAMP' });
    expect((await socket.next('before')).type).toBe('next');
    const revoked = await app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenFor('ada', ['admin'])}` },
      payload: JSON.stringify({ query: 'mutation { revokeTokens(input: { subject: "dave" }) { subject } }' }),
    });
    expect(revoked.json()).toMatchObject({ data: { revokeTokens: { subject: 'dave' } } });
    socket.subscribe('after', SKU_SUBSCRIPTION, { sku: 'LAMP' });
    expect(errorsOf(await socket.next('after'))[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
