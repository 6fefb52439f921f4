/**
 * The read path over HTTP and WebSocket against two real server processes sharing PostgreSQL and
 * Redis: a write through one process is read (with its consistency token) through the other, and a
 * subscriber on one process hears a change written through the other (Redis pub/sub).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../../src/api/tokens.js';
import type { Role } from '../../../src/api/tokens.js';
import { E2E_JWT_SECRET, postGraphql, startApiServer } from '../../support/api-server.js';
import type { ApiServer, HttpGraphqlResponse } from '../../support/api-server.js';
import { subscribe, wsClient } from '../../support/api-ws.js';
import { createTestDatabase, redisTestPrefix, redisTestUrl } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';

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

describe('GraphQL read path across two server processes', () => {
  let database: TestDatabase;
  let a: ApiServer;
  let b: ApiServer;
  beforeAll(async () => {
    database = await createTestDatabase('api_read_e2e');
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: redisTestUrl(),
      REDIS_KEY_PREFIX: redisTestPrefix('api-read-e2e'),
      PAYMENT_FAKE_LATENCY_MS: '0',
      PAYMENT_FAKE_FAILURE_RATE: '0',
      // Generous: the PostgreSQL cluster is shared, and any long transaction in it holds the
      // subscription horizon back (see docs/operations/event-store.md). The timeout itself is
      // tested in test/integration/api/read-path.test.ts.
      CONSISTENCY_WAIT_MS: '30000',
    };
    a = await startApiServer(env);
    b = await startApiServer(env);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await database?.drop();
  });

  it('reads its own writes through the other process with the consistency token', async () => {
    const listed = await postGraphql(a.url, 'mutation { listProduct(input: { productId: "tea", sku: "TEA", name: "Green tea", price: 650, currency: "EUR" }) { consistencyToken } }', undefined, admin);
    const read = await postGraphql(b.url, 'query ($t: String) { product(id: "tea", consistencyToken: $t) { id name price status } }', { t: consistencyTokenOf(listed, 'listProduct') });
    expect(read.body).toEqual({ data: { product: { id: 'tea', name: 'Green tea', price: 650, status: 'LISTED' } } });
  });

  it('delivers a change written through one process to a subscriber on the other, and the order flow to CONFIRMED', async () => {
    const received = await postGraphql(a.url, 'mutation { receiveStock(input: { sku: "TEA", quantity: 40 }) { consistencyToken } }', undefined, admin);
    const after = consistencyTokenOf(received, 'receiveStock');
    const stock = subscribe(wsClient(b.url), 'subscription ($after: String) { availabilityChanged(sku: "TEA", after: $after) { sku received reserved sold available } }', { after });
    const placed = await postGraphql(a.url, 'mutation { placeOrder(input: { lines: [{ sku: "TEA", quantity: 3, unitPrice: 650 }], currency: "EUR" }) { orderId consistencyToken } }', undefined, alice);
    const orderId = (placed.body.data?.placeOrder as { orderId: string }).orderId;
    const status = subscribe(wsClient(b.url, alice), 'subscription ($after: String, $id: ID!) { orderStatusChanged(orderId: $id, after: $after) { id status paymentStatus } }', {
      after: consistencyTokenOf(placed, 'placeOrder'),
      id: orderId,
    });
    try {
      // The process manager reserves 3 units, takes the payment and commits them: the subscriber sees
      // each change of the SKU's stock, in order, ending with 3 sold.
      const seen: unknown[] = [];
      for (;;) {
        const next = await stock.next(40_000);
        seen.push(next);
        if (JSON.stringify(next).includes('"sold":3')) break;
      }
      expect(seen.at(-1)).toEqual({ data: { availabilityChanged: { sku: 'TEA', received: 40, reserved: 0, sold: 3, available: 37 } } });
      expect(await status.next(40_000)).toEqual({ data: { orderStatusChanged: { id: orderId, status: 'CONFIRMED', paymentStatus: 'AUTHORIZED' } } });
    } finally {
      await stock.close();
      await status.close();
    }
    const mine = await postGraphql(b.url, '{ myOrders { edges { node { id status timeline { type } } } } }', undefined, alice);
    expect(mine.body.errors).toBeUndefined();
    const node = (mine.body.data?.myOrders as { edges: Array<{ node: { id: string; status: string; timeline: Array<{ type: string }> } }> }).edges[0]?.node;
    expect(node?.id).toBe(orderId);
    expect(node?.timeline.map((t) => t.type)).toContain('OrderConfirmed');
  });

  it('answers GET /ready with every dependency checked (each check shown to an admin only)', async () => {
    const ready = await fetch(`${a.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok' });
    const detailed = await fetch(`${a.url}/ready`, { headers: { authorization: `Bearer ${admin}` } });
    expect(detailed.status).toBe(200);
    expect(await detailed.json()).toEqual({ status: 'ok', checks: { database: 'ok', eventstore: 'ok', redis: 'ok', projections: 'ok' } });
  });
});
