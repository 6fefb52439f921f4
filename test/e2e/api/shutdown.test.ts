/**
 * Graceful shutdown of the real server process with work open: SIGTERM while a graphql-ws
 * subscription is open and a query is in flight. The subscriber sees its WebSocket closed at once
 * (1001, going away) rather than a hang; the query, still waiting for its consistency token,
 * completes with the new state; then the process exits 0.
 *
 * The query is held in flight deterministically: the test holds a transaction with a transaction
 * id open, which holds the event store's subscription horizon back (see docs/architecture.md,
 * "Positions in the PostgreSQL event store"), so the write the query waits for cannot be projected
 * until the test lets go, after SIGTERM.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../../src/api/tokens.js';
import { E2E_JWT_SECRET, errorCodes, postGraphql, startApiServer } from '../../support/api-server.js';
import type { ApiServer, HttpGraphqlResponse } from '../../support/api-server.js';
import { subscribe, wsClient } from '../../support/api-ws.js';
import { createTestDatabase, redisTestPrefix, redisTestUrl } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';

const admin = signToken({ subject: 'ada', roles: ['admin'], secret: E2E_JWT_SECRET, expiresInSeconds: 3600 });

const consistencyTokenOf = (response: HttpGraphqlResponse, field: string): string => {
  const payload = response.body.data?.[field];
  if (typeof payload === 'object' && payload !== null && 'consistencyToken' in payload && typeof payload.consistencyToken === 'string') {
    return payload.consistencyToken;
  }
  throw new Error(`${field}: ${JSON.stringify(response.body)}`);
};

/** The JSON log lines of the server with this message. */
const logLines = (server: ApiServer, msg: string): Array<Record<string, unknown>> =>
  server.keel
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.msg === msg);

const until = async (what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('SIGTERM with a subscription open and a request in flight', { timeout: 120_000 }, () => {
  let database: TestDatabase;
  let server: ApiServer;
  let horizon: pg.Client | undefined;

  beforeAll(async () => {
    database = await createTestDatabase('api_shutdown_e2e');
    server = await startApiServer({
      DATABASE_URL: database.url,
      REDIS_URL: redisTestUrl(),
      REDIS_KEY_PREFIX: redisTestPrefix('api-shutdown-e2e'),
      LOG_LEVEL: 'info',
      CONSISTENCY_WAIT_MS: '30000',
    });
  });
  afterAll(async () => {
    await horizon?.end().catch(() => undefined);
    await server?.stop();
    await database?.drop();
  });

  it('closes the WebSocket cleanly, completes the request, and exits 0', async () => {
    const listed = await postGraphql(server.url, 'mutation { listProduct(input: { productId: "cup", sku: "CUP", name: "Cup", price: 800, currency: "EUR" }) { consistencyToken } }', undefined, admin);
    const stocked = await postGraphql(server.url, 'mutation { receiveStock(input: { sku: "CUP", quantity: 5 }) { consistencyToken } }', undefined, admin);
    expect(errorCodes(stocked)).toEqual([]);

    // An open subscription: its first message (the state newer than the token) shows it is live.
    const stock = subscribe(wsClient(server.url), 'subscription ($after: String) { availabilityChanged(sku: "CUP", after: $after) { sku received } }', {
      after: consistencyTokenOf(listed, 'listProduct'),
    });
    expect(await stock.next(40_000)).toEqual({ data: { availabilityChanged: { sku: 'CUP', received: 5 } } });

    // Hold the horizon back, then write: the write is stored but cannot be projected yet.
    horizon = new pg.Client({ connectionString: database.url });
    await horizon.connect();
    await horizon.query('BEGIN');
    await horizon.query('SELECT pg_current_xact_id()');
    const more = await postGraphql(server.url, 'mutation { receiveStock(input: { sku: "CUP", quantity: 3 }) { consistencyToken } }', undefined, admin);

    // A query that waits for that write: in flight until the horizon moves.
    const requestsBefore = logLines(server, 'incoming request').length;
    const inFlight = postGraphql(server.url, 'query ($t: String) { availability(sku: "CUP", consistencyToken: $t) { sku received available } }', {
      t: consistencyTokenOf(more, 'receiveStock'),
    });
    await until('the server received the query', () => logLines(server, 'incoming request').length > requestsBefore);

    server.keel.child.kill('SIGTERM');
    // The subscriber is told at once, while the request is still in flight.
    const closed = await stock.next(20_000);
    expect(closed).toMatchObject({ error: { code: 1001, reason: 'server shutting down' } });
    expect(server.keel.child.exitCode).toBeNull();

    // Let the projections move: the query gets its answer, then the process exits 0.
    await horizon.query('ROLLBACK');
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ data: { availability: { sku: 'CUP', received: 8, available: 8 } } });
    const exit = await server.keel.exited(15_000);
    expect(exit, `${server.keel.stdout()}\n${server.keel.stderr()}`).toEqual({ code: 0, signal: null });
    expect(server.keel.stdout()).toContain('Keel stopped');
    await stock.close();
  });
});
