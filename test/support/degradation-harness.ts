/**
 * Helpers of the graceful-degradation tests (test/integration/server/degradation-*.test.ts): Keel
 * started in-process through `startKeel` with the dependencies a test wants behind TCP proxies, a
 * catalog and an order to read, timed GraphQL calls and `/ready` as an admin sees it.
 */
import { signToken } from '../../src/api/tokens.js';
import type { Role } from '../../src/api/tokens.js';
import { loadConfig } from '../../src/platform/config.js';
import { startKeel } from '../../src/server/index.js';
import type { KeelServer } from '../../src/server/index.js';
import { postGraphql } from './api-server.js';
import type { HttpGraphqlResponse } from './api-server.js';
import { redisTestUrl } from './database.js';
import { NO_SHEDDING } from './no-shedding.js';

const JWT_SECRET = 'degradation-test-secret-0123456789abcdef0123';

const token = (subject: string, role: Role): string => signToken({ subject, roles: [role], secret: JWT_SECRET, expiresInSeconds: 3600 });
export const admin = token('ada', 'admin');
export const alice = token('alice', 'customer');

/** Keel in this process, on `env` (DATABASE_URL, EVENTSTORE_URL, REDIS_URL, …) plus test defaults. */
export const startTestKeel = (env: Record<string, string>): Promise<KeelServer> =>
  startKeel(
    loadConfig({
      ...NO_SHEDDING,
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      JWT_SECRET,
      PAYMENT_FAKE_LATENCY_MS: '0',
      PAYMENT_FAKE_FAILURE_RATE: '0',
      ...env,
    }),
    { handleSignals: false },
  );

/** The test Redis URL with its port spelled out (the proxy needs one). */
export const redisUrlWithPort = (): string => {
  const url = new URL(redisTestUrl());
  if (url.port === '') url.port = '6379';
  return url.toString();
};

export interface Timed<T> {
  readonly ms: number;
  readonly value: T;
}

export const timed = async <T>(run: () => Promise<T>): Promise<Timed<T>> => {
  const started = performance.now();
  const value = await run();
  return { ms: Math.round(performance.now() - started), value };
};

/** Rejects if `promise` has not settled within `ms`: a call that hangs fails the test instead of stalling it. */
export const bounded = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms).unref())]);

/** Polls `check` until true; rejects after `ms` (a hang guard, not a timing assertion). */
export const eventually = async (what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

export const codesOf = (response: HttpGraphqlResponse): unknown[] => (response.body.errors ?? []).map((e) => e.extensions?.code);

export const gql = (keel: KeelServer, query: string, variables?: Record<string, unknown>, bearer?: string): Promise<HttpGraphqlResponse> =>
  bounded(postGraphql(keel.url, query, variables, bearer), 40_000, query.slice(0, 40));

export interface Readiness {
  readonly status: number;
  readonly failing: readonly string[];
  readonly checks: Readonly<Record<string, string>>;
}

/** GET /ready as an admin (who sees each check's reason). */
export const readiness = async (keel: KeelServer): Promise<Readiness> => {
  const response = await fetch(`${keel.url}/ready`, { headers: { authorization: `Bearer ${admin}` } });
  const body = (await response.json()) as { failing?: string[]; checks?: Record<string, string> };
  return { status: response.status, failing: body.failing ?? [], checks: body.checks ?? {} };
};

export const LIST_MUG = 'mutation { listProduct(input: { productId: "mug", sku: "MUG", name: "Mug", price: 1200, currency: "EUR" }) { consistencyToken } }';
export const RECEIVE_MUGS = 'mutation { receiveStock(input: { sku: "MUG", quantity: 100 }) { consistencyToken } }';
/** One mug at the price `$price` (the catalog's, or the order is refused). */
export const PLACE_ORDER = 'mutation ($price: Int! = 1200) { placeOrder(input: { lines: [{ sku: "MUG", quantity: 1, unitPrice: $price }], currency: "EUR" }) { orderId consistencyToken } }';
export const CHANGE_PRICE = 'mutation ($price: Int!) { changePrice(input: { productId: "mug", price: $price }) { consistencyToken } }';
export const PRODUCT = 'query ($t: String) { product(id: "mug", consistencyToken: $t) { id price available } }';
export const ORDER = 'query ($id: ID!, $t: String) { order(id: $id, consistencyToken: $t) { id status } }';

/** The payload's field `field` of a successful mutation; throws with the response otherwise. */
export const payloadOf = (response: HttpGraphqlResponse, field: string): Record<string, unknown> => {
  const payload = response.body.data?.[field];
  if (typeof payload === 'object' && payload !== null && response.body.errors === undefined) return payload as Record<string, unknown>;
  throw new Error(`${field}: ${JSON.stringify(response.body)}`);
};

/** Lists the mug and receives stock for it; resolves with the last mutation's consistency token. */
export const seedCatalog = async (keel: KeelServer): Promise<string> => {
  payloadOf(await gql(keel, LIST_MUG, undefined, admin), 'listProduct');
  return String(payloadOf(await gql(keel, RECEIVE_MUGS, undefined, admin), 'receiveStock').consistencyToken);
};

/** Places an order for one mug at `price` as alice: its id and consistency token. */
export const placeOrder = async (keel: KeelServer, price = 1200): Promise<{ readonly orderId: string; readonly token: string }> => {
  const payload = payloadOf(await gql(keel, PLACE_ORDER, { price }, alice), 'placeOrder');
  return { orderId: String(payload.orderId), token: String(payload.consistencyToken) };
};
