/**
 * No secret, token or personal data in the logs. A whole Keel (the real process, `npm start`'s
 * src/main.ts, NODE_ENV=production at LOG_LEVEL=debug, stdout and stderr captured) goes through a
 * full run: tokens of every role, a catalog written by an admin, a checkout paid through the fake
 * payment provider over HTTP and pushed to a subscriber (the token in the WebSocket's
 * connection_init), a cancellation whose reason holds a person's name, address, email and phone,
 * refused tokens (forged, malformed, revoked), invalid inputs carrying that personal data, the
 * inspector, a payment provider's callback and a rate-limit refusal. Then the whole output is
 * searched for the JWT secret, every token (whole and its signature), the PostgreSQL and Redis
 * passwords (a role and a Redis user of the test's own, with random passwords), every
 * `authorization` header value, `Bearer ` and the personal data sent: none may appear. The log
 * must show the run (its request lines, the refusals), or it would prove nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProviderServer } from '../../../src/commands/payment/index.js';
import type { FakeProviderServer } from '../../../src/commands/payment/index.js';
import { signToken } from '../../../src/api/tokens.js';
import type { Role } from '../../../src/api/tokens.js';
import { errorCodes, postGraphql } from '../../support/api-server.js';
import type { HttpGraphqlResponse } from '../../support/api-server.js';
import { subscribe, wsClient } from '../../support/api-ws.js';
import { adminDatabaseUrl, createTestDatabase, redisTestPrefix, redisTestUrl } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';
import { spawnKeel } from '../../support/keel-process.js';
import type { KeelProcess } from '../../support/keel-process.js';

const LOG_FILE = fileURLToPath(new URL('../../../test-results/log-hygiene/keel.log', import.meta.url));
const JWT_SECRET = `log-hygiene-${randomBytes(24).toString('hex')}`;
const DATABASE_PASSWORD = `pgpw${randomBytes(12).toString('hex')}`;
const DATABASE_ROLE = `keel_log_hygiene_${randomBytes(4).toString('hex')}`;
const REDIS_PASSWORD = `redispw${randomBytes(12).toString('hex')}`;
const RATE_LIMIT_MAX = 200;

const token = (subject: string, role: Role, secret = JWT_SECRET): string => signToken({ subject, roles: [role], secret, expiresInSeconds: 600 });
const admin = token('ada', 'admin');
const alice = token('alice', 'customer');
const mallory = token('mallory', 'customer');
const provider = token('payments', 'payment-provider');
const flooder = token('flooder', 'customer');
const forged = token('ada', 'admin', `not-the-server-secret-${randomBytes(16).toString('hex')}`);
const TOKENS = { admin, alice, mallory, provider, flooder, forged };

/** Personal data a customer typed, in pieces as well: a log line may hold one of them alone. */
const PERSON = { name: 'Jane Quimby-Placeholder', street: '742 Evergreen Terrace', email: 'jane.quimby@example.org', phone: '+44 7700 900461' };
const PERSONAL = `${PERSON.name}, ${PERSON.street}, ${PERSON.email}, ${PERSON.phone}`;

const RESULT = 'streamId consistencyToken';
const LIST = `mutation ($input: ListProductInput!) { listProduct(input: $input) { ${RESULT} } }`;
const RECEIVE = `mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { ${RESULT} } }`;
const PLACE = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { ${RESULT} orderId } }`;
const CANCEL = `mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { ${RESULT} status } }`;
const REVOKE = 'mutation ($input: RevokeTokensInput!) { revokeTokens(input: $input) { subject } }';
const OUTCOME = `mutation ($input: RecordPaymentOutcomeInput!) { recordPaymentOutcome(input: $input) { ${RESULT} } }`;
const ORDER = 'query ($id: ID!, $t: String) { order(id: $id, consistencyToken: $t) { id status paymentStatus cancelReason } }';

const payload = (response: HttpGraphqlResponse, field: string): Record<string, unknown> => {
  const value = response.body.data?.[field];
  if (typeof value !== 'object' || value === null || response.body.errors !== undefined) throw new Error(`${field}: ${JSON.stringify(response.body)}`);
  return { ...value };
};

const asSuperuser = async (sql: string): Promise<void> => {
  const client = new pg.Client({ connectionString: adminDatabaseUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
};

describe('the logs of a full run hold no secret, token or personal data', { timeout: 180_000 }, () => {
  let database: TestDatabase;
  let payments: FakeProviderServer;
  let keel: KeelProcess;
  let url: string;
  const headers: string[] = [];

  /** fetch with a bearer token, remembering the header's value to look for it in the log. */
  const get = (path: string, bearer?: string): Promise<Response> => {
    if (bearer !== undefined) headers.push(`Bearer ${bearer}`);
    return fetch(`${url}${path}`, bearer === undefined ? {} : { headers: { authorization: `Bearer ${bearer}` } });
  };
  const gql = (query: string, variables?: Record<string, unknown>, bearer?: string): Promise<HttpGraphqlResponse> => {
    if (bearer !== undefined) headers.push(`Bearer ${bearer}`);
    return postGraphql(url, query, variables, bearer);
  };

  beforeAll(async () => {
    database = await createTestDatabase('log_hygiene');
    // A role of the test's own, owner of its database: its password appears nowhere else.
    await asSuperuser(`CREATE ROLE ${DATABASE_ROLE} LOGIN PASSWORD '${DATABASE_PASSWORD}'`);
    await asSuperuser(`ALTER DATABASE "${database.name}" OWNER TO ${DATABASE_ROLE}`);
    const databaseUrl = new URL(database.url);
    databaseUrl.username = DATABASE_ROLE;
    databaseUrl.password = DATABASE_PASSWORD;
    // Redis's default user takes any password (nopass); AUTH with it is still sent and must stay out of the log.
    const redisUrl = new URL(redisTestUrl());
    redisUrl.username = 'default';
    redisUrl.password = REDIS_PASSWORD;
    payments = await startFakeProviderServer({ latencyMs: 5, failureRate: 0 });
    keel = spawnKeel({
      NODE_ENV: 'production',
      LOG_LEVEL: 'debug',
      PORT: '0',
      HOST: '127.0.0.1',
      JWT_SECRET,
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL: redisUrl.toString(),
      REDIS_KEY_PREFIX: redisTestPrefix('log-hygiene'),
      PAYMENT_PROVIDER_URL: payments.url,
      RATE_LIMIT_MAX: String(RATE_LIMIT_MAX),
      RATE_LIMIT_WINDOW_MS: '600000',
      CONSISTENCY_WAIT_MS: '30000',
    });
    url = await keel.waitForUrl();
  }, 120_000);
  afterAll(async () => {
    if (keel !== undefined && keel.child.exitCode === null && keel.child.signalCode === null) keel.child.kill('SIGKILL');
    await payments?.close();
    await database?.drop();
    await asSuperuser(`DROP ROLE IF EXISTS ${DATABASE_ROLE}`);
  });

  it('runs every kind of request, then finds none of them in stdout or stderr', async () => {
    // Probes, anonymous and as an admin.
    expect((await get('/health')).status).toBe(200);
    expect((await get('/health', admin)).status).toBe(200);
    expect((await get('/ready')).status).toBe(200);

    // The catalog, written by an admin.
    payload(await gql(LIST, { input: { productId: 'lamp', sku: 'LAMP', name: 'Desk lamp', price: 4500, currency: 'EUR' } }, admin), 'listProduct');
    payload(await gql(RECEIVE, { input: { sku: 'LAMP', quantity: 10 } }, admin), 'receiveStock');

    // A checkout, paid through the fake provider over HTTP, its progress pushed to a subscriber.
    const placed = payload(await gql(PLACE, { input: { lines: [{ sku: 'LAMP', quantity: 1, unitPrice: 4500 }], currency: 'EUR', idempotencyKey: 'checkout-1' } }, alice), 'placeOrder');
    const orderId = String(placed.orderId);
    headers.push(`Bearer ${alice}`);
    const socket = wsClient(url, alice);
    const pushed = subscribe(socket, 'subscription ($id: ID!, $after: String) { orderStatusChanged(orderId: $id, after: $after) { id status } }', {
      id: orderId,
      after: String(placed.consistencyToken),
    });
    try {
      expect(await pushed.next(30_000)).toMatchObject({ data: { orderStatusChanged: { id: orderId } } });
    } finally {
      await pushed.close();
    }
    for (const deadline = Date.now() + 30_000; ; ) {
      const order = payload(await gql(ORDER, { id: orderId }, alice), 'order');
      if (order.status === 'CONFIRMED') break;
      if (Date.now() > deadline) throw new Error(`order ${orderId} not confirmed: ${JSON.stringify(order)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(payments.provider.charges).toBeGreaterThanOrEqual(1);

    // A second order, cancelled with a reason full of personal data (or refused if already confirmed).
    const second = payload(await gql(PLACE, { input: { lines: [{ sku: 'LAMP', quantity: 2, unitPrice: 4500 }], currency: 'EUR' } }, alice), 'placeOrder');
    const cancelled = await gql(CANCEL, { input: { orderId: String(second.orderId), reason: `Please call ${PERSONAL}` } }, alice);
    expect(cancelled.body.errors === undefined ? payload(cancelled, 'cancelOrder').status : errorCodes(cancelled)[0]).toMatch(/^(CANCELLED|KEEL_ERR_ORDER_NOT_PENDING)$/);
    payload(await gql('{ myOrders(first: 5) { edges { node { id status cancelReason } } } }', undefined, alice), 'myOrders');

    // Invalid inputs that carry the personal data: a missing field, an unknown one, a wrong type.
    expect(errorCodes(await gql(CANCEL, { input: { reason: PERSONAL } }, alice))).toEqual(['KEEL_ERR_VALIDATION']);
    expect(errorCodes(await gql(CANCEL, { input: { orderId: String(second.orderId), reason: 'x', note: PERSONAL } }, alice))).toEqual(['KEEL_ERR_VALIDATION']);
    expect(errorCodes(await gql(PLACE, { input: { lines: [{ sku: PERSON.email, quantity: PERSON.phone }] } }, alice))).toEqual(['KEEL_ERR_VALIDATION']);
    expect(errorCodes(await gql(CANCEL, { input: { orderId: String(second.orderId), reason: `${PERSONAL} ${'x'.repeat(600)}` } }, alice))).toEqual(['KEEL_ERR_VALIDATION']);
    // The same inline in the document: a literal of the wrong type, and a document that does not parse.
    const inline = `mutation { placeOrder(input: { lines: [{ sku: "LAMP", quantity: "${PERSON.email}" }] }) { orderId } }`;
    const refusedAs = async (query: string): Promise<unknown[]> => [...new Set(errorCodes(await gql(query, undefined, alice)))];
    expect(await refusedAs(inline)).toEqual(['KEEL_ERR_GRAPHQL_VALIDATION']);
    expect(await refusedAs(`mutation { cancelOrder(input: { orderId: "x" reason: "${PERSONAL}" }) { status } `)).toEqual(['KEEL_ERR_GRAPHQL_VALIDATION']);
    expect(await refusedAs(`mutation { cancelOrder(input: { orderId: "x", reason "${PERSONAL}" }) { status } }`)).toEqual(['KEEL_ERR_GRAPHQL_VALIDATION']);
    // Over the WebSocket: a subscription whose variable is the personal data, of the wrong type.
    const refusedSocket = wsClient(url, alice);
    const refusedSubscription = subscribe(refusedSocket, 'subscription ($id: ID!) { orderStatusChanged(orderId: $id) { id } }', { id: { customer: PERSONAL } });
    try {
      expect(await refusedSubscription.next(10_000)).toHaveProperty('error');
    } finally {
      await refusedSubscription.close();
    }
    // A body cut short: JSON's own error message quotes the text around the fault.
    headers.push(`Bearer ${alice}`);
    const cut = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
      body: `{"query": "mutation { cancelOrder }", "variables": {"reason": ${PERSONAL}}}`,
    });
    expect(cut.status).toBe(400);

    // Refused tokens: forged, malformed, revoked; a customer at an admin's mutation.
    expect((await gql(RECEIVE, { input: { sku: 'LAMP', quantity: 1 } }, forged)).status).toBe(401);
    expect((await gql('{ __typename }', undefined, 'not-a-jwt.at-all.really')).status).toBe(401);
    expect(errorCodes(await gql('{ myOrders { edges { cursor } } }', undefined, mallory))).toEqual([]);
    payload(await gql(REVOKE, { input: { subject: 'mallory' } }, admin), 'revokeTokens');
    let revoked: HttpGraphqlResponse | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      revoked = await gql('{ myOrders { edges { cursor } } }', undefined, mallory);
      if (revoked.status === 401) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(revoked?.status).toBe(401);
    expect(errorCodes(await gql(RECEIVE, { input: { sku: 'LAMP', quantity: 1 } }, alice))).toEqual(['FORBIDDEN']);

    // The payment provider's callback, for a payment that does not exist.
    expect(errorCodes(await gql(OUTCOME, { input: { paymentId: 'no-such-payment', outcome: 'DECLINED', reason: `Card of ${PERSON.name}` } }, provider))).not.toEqual([]);

    // The inspector: its page, an admin's data, a customer refused.
    expect((await get('/inspector')).status).toBe(200);
    expect((await get('/inspector/api/session', admin)).status).toBe(200);
    expect((await get(`/inspector/api/orders/${orderId}/story`, admin)).status).toBe(200);
    expect((await get('/inspector/api/session', alice)).status).toBe(403);
    expect((await get('/inspector/api/session', forged)).status).toBe(401);

    // A rate-limit refusal.
    let refused = 0;
    for (let i = 0; i <= RATE_LIMIT_MAX && refused === 0; i++) if ((await gql('{ __typename }', undefined, flooder)).status === 429) refused++;
    expect(refused).toBe(1);

    keel.child.kill('SIGTERM');
    expect(await keel.exited(15_000)).toEqual({ code: 0, signal: null });
    const log = `${keel.stdout()}\n${keel.stderr()}`;
    // Kept for reading (test-results/ is git-ignored; every secret in it was made for this run).
    mkdirSync(dirname(LOG_FILE), { recursive: true });
    writeFileSync(LOG_FILE, log);

    // The log shows the run: request lines (with the refusals' statuses) and the refused inputs' codes.
    const lines = keel.stdout().split('\n').filter((line) => line.startsWith('{'));
    expect(lines.filter((line) => line.includes('"request completed"')).length).toBeGreaterThan(40);
    for (const status of [401, 403, 429]) expect(log).toContain(`"statusCode":${status}`);
    expect(log).toContain('KEEL_ERR_VALIDATION');

    const secrets: Record<string, string> = {
      JWT_SECRET,
      'the database password': DATABASE_PASSWORD,
      'the Redis password': REDIS_PASSWORD,
      'Bearer ': 'Bearer ',
      ...Object.fromEntries(Object.entries(TOKENS).flatMap(([name, value]) => [[`the ${name} token`, value], [`the ${name} token's signature`, value.split('.')[2] ?? value]])),
      ...Object.fromEntries([...new Set(headers)].map((value, i) => [`authorization header value #${i + 1}`, value])),
      ...Object.fromEntries(Object.entries(PERSON).map(([field, value]) => [`the customer's ${field}`, value])),
    };
    const leaks = log.split('\n').flatMap((line) => {
      const found = Object.entries(secrets).filter(([, value]) => line.includes(value));
      return found.length === 0 ? [] : [`${found.map(([name]) => name).join(', ')} in: ${line.slice(0, 600)}`];
    });
    expect(leaks).toEqual([]);
  });
});
