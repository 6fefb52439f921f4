/**
 * A split deployment: `keel serve --role api` and `keel serve --role projector`, two real processes
 * on one PostgreSQL and Redis. The api process serves HTTP and runs no projections; the projector
 * projects and runs the process manager. A write through the api process is read back through it
 * with its consistency token, and a subscriber on it hears the change (Redis pub/sub from the
 * projector). The projector builds no HTTP app, so it starts in production without JWT_SECRET.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../../src/api/tokens.js';
import type { Role } from '../../../src/api/tokens.js';
import { E2E_JWT_SECRET, errorCodes, postGraphql } from '../../support/api-server.js';
import type { HttpGraphqlResponse } from '../../support/api-server.js';
import { subscribe, wsClient } from '../../support/api-ws.js';
import { createTestDatabase, redisTestPrefix, redisTestUrl } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';
import { spawnKeel } from '../../support/keel-process.js';
import type { KeelProcess } from '../../support/keel-process.js';

const token = (sub: string, role: Role): string => signToken({ subject: sub, roles: [role], secret: E2E_JWT_SECRET, expiresInSeconds: 3600 });
const admin = token('ada', 'admin');
const alice = token('alice', 'customer');

const consistencyTokenOf = (response: HttpGraphqlResponse, field: string): string => {
  const payload = response.body.data?.[field];
  if (typeof payload === 'object' && payload !== null && 'consistencyToken' in payload && typeof payload.consistencyToken === 'string') {
    return payload.consistencyToken;
  }
  throw new Error(`${field}: ${JSON.stringify(response.body)}`);
};

interface Status {
  readonly name: string;
  readonly state: string;
  readonly active: boolean | null;
}
const STATUS = '{ projectionStatus { name state active } }';
const statuses = async (url: string): Promise<Status[]> => {
  const response = await postGraphql(url, STATUS, undefined, admin);
  expect(response.body.errors).toBeUndefined();
  return response.body.data?.projectionStatus as Status[];
};

const until = async (what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

const stop = async (keel: KeelProcess | undefined): Promise<void> => {
  if (keel === undefined || keel.child.exitCode !== null || keel.child.signalCode !== null) return;
  keel.child.kill('SIGTERM');
  await keel.exited(10_000).catch(() => keel.child.kill('SIGKILL'));
};

describe('keel serve --role api and --role projector on one PostgreSQL and Redis', { timeout: 180_000 }, () => {
  let database: TestDatabase;
  let api: KeelProcess | undefined;
  let projector: KeelProcess | undefined;
  let url: string;
  let shared: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase('api_roles_e2e');
    shared = {
      DATABASE_URL: database.url,
      REDIS_URL: redisTestUrl(),
      REDIS_KEY_PREFIX: redisTestPrefix('api-roles-e2e'),
      PAYMENT_FAKE_LATENCY_MS: '0',
      PAYMENT_FAKE_FAILURE_RATE: '0',
      LOG_LEVEL: 'info',
    };
    // Generous: the PostgreSQL cluster is shared, and any long transaction in it holds the
    // subscription horizon back (the timeout itself is tested in test/integration/api/read-path.test.ts).
    api = spawnKeel({ ...shared, NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', JWT_SECRET: E2E_JWT_SECRET, CONSISTENCY_WAIT_MS: '30000' }, ['serve', '--role', 'api']);
    url = await api.waitForUrl();
  });
  afterAll(async () => {
    await Promise.all([stop(api), stop(projector)]);
    await database?.drop();
  });

  it('the api process runs no projections: alone, it leaves every projection not started', async () => {
    const before = await statuses(url);
    expect(before.length).toBeGreaterThan(0);
    for (const status of before) expect(status, status.name).toMatchObject({ state: 'not-started', active: false });
    expect(api?.stdout()).not.toContain('process manager running');
  });

  it('the projector starts in production without JWT_SECRET, serves no API, and takes every projection', async () => {
    projector = spawnKeel({ ...shared, NODE_ENV: 'production', PORT: '0' }, ['serve', '--role', 'projector']);
    const running = projector;
    await until('the projector logs that it runs', () => running.stdout().includes('Keel projector running') || running.child.exitCode !== null);
    expect(running.child.exitCode, running.stderr()).toBeNull();
    expect(running.stdout()).toContain('Keel projector running');
    expect(running.stdout()).not.toContain('Keel listening');
    await until('every projection is active', async () => (await statuses(url)).every((s) => s.active === true && s.state === 'running'));
  });

  it('a write through the api process is read back through it with its token; its subscriber hears the change', async () => {
    const listed = await postGraphql(url, 'mutation { listProduct(input: { productId: "kettle", sku: "KETTLE", name: "Kettle", price: 2900, currency: "EUR" }) { consistencyToken } }', undefined, admin);
    const read = await postGraphql(url, 'query ($t: String) { product(id: "kettle", consistencyToken: $t) { id name price status } }', { t: consistencyTokenOf(listed, 'listProduct') });
    expect(read.body).toEqual({ data: { product: { id: 'kettle', name: 'Kettle', price: 2900, status: 'LISTED' } } });

    const stock = subscribe(wsClient(url), 'subscription ($after: String) { availabilityChanged(sku: "KETTLE", after: $after) { sku received available } }', {
      after: consistencyTokenOf(listed, 'listProduct'),
    });
    try {
      const received = await postGraphql(url, 'mutation { receiveStock(input: { sku: "KETTLE", quantity: 25 }) { consistencyToken } }', undefined, admin);
      expect(errorCodes(received)).toEqual([]);
      const seen: unknown[] = [];
      while (!JSON.stringify(seen.at(-1) ?? null).includes('"received":25')) seen.push(await stock.next(40_000));
      expect(seen.at(-1)).toEqual({ data: { availabilityChanged: { sku: 'KETTLE', received: 25, available: 25 } } });
      const board = await postGraphql(url, 'query ($t: String) { flashSaleBoard(first: 5, consistencyToken: $t) { sku unitsLeft } }', { t: consistencyTokenOf(received, 'receiveStock') });
      expect(board.body).toEqual({ data: { flashSaleBoard: [{ sku: 'KETTLE', unitsLeft: 25 }] } });
    } finally {
      await stock.close();
    }
  });

  it("the projector's process manager confirms an order placed through the api process", async () => {
    const placed = await postGraphql(url, 'mutation { placeOrder(input: { lines: [{ sku: "KETTLE", quantity: 2, unitPrice: 2900 }], currency: "EUR" }) { orderId consistencyToken } }', undefined, alice);
    const after = consistencyTokenOf(placed, 'placeOrder');
    const id = (placed.body.data?.placeOrder as { orderId: string }).orderId;
    const status = subscribe(wsClient(url, alice), 'subscription ($after: String, $id: ID!) { orderStatusChanged(orderId: $id, after: $after) { id status } }', { after, id });
    try {
      expect(await status.next(40_000)).toEqual({ data: { orderStatusChanged: { id, status: 'CONFIRMED' } } });
    } finally {
      await status.close();
    }
    const mine = await postGraphql(url, 'query ($t: String) { myOrders(status: CONFIRMED, consistencyToken: $t) { edges { node { id status } } } }', { t: after }, alice);
    expect(mine.body).toEqual({ data: { myOrders: { edges: [{ node: { id, status: 'CONFIRMED' } }] } } });
  });

  it('both stop on SIGTERM with exit code 0', async () => {
    for (const keel of [api, projector]) {
      keel?.child.kill('SIGTERM');
      expect(await keel?.exited(15_000)).toEqual({ code: 0, signal: null });
    }
  });
});
