/**
 * Limits and production hardening against two real server processes (NODE_ENV=production) that
 * share one PostgreSQL database and one Redis: the rate limit holds across both, depth, cost and
 * body limits, introspection off, masked errors, security headers.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../../src/api/tokens.js';
import type { Role } from '../../../src/api/tokens.js';
import { E2E_JWT_SECRET, errorCodes, openEventLog, postGraphql, startApiServer } from '../../support/api-server.js';
import type { ApiServer, EventLog } from '../../support/api-server.js';
import { createTestDatabase, redisTestPrefix, redisTestUrl } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';

const token = (sub: string, role: Role = 'admin'): string =>
  signToken({ subject: sub, roles: [role], secret: E2E_JWT_SECRET, expiresInSeconds: 3600 });
const RECEIVE = 'mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { streamId } }';

describe('API limits over HTTP (two production server processes sharing Redis)', () => {
  let database: TestDatabase;
  let a: ApiServer;
  let b: ApiServer;
  let log: EventLog;
  beforeAll(async () => {
    database = await createTestDatabase('api_limits_e2e');
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      REDIS_URL: redisTestUrl(),
      REDIS_KEY_PREFIX: redisTestPrefix('api-limits-e2e'),
      RATE_LIMIT_MAX: '5',
      RATE_LIMIT_WINDOW_MS: '600000',
      QUERY_MAX_DEPTH: '4',
      QUERY_MAX_COST: '100',
      BODY_LIMIT_BYTES: '4096',
    };
    // One after the other: both run the same migrations at startup.
    a = await startApiServer(env);
    b = await startApiServer(env);
    log = await openEventLog(database.url);
  });
  afterAll(async () => {
    await log?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await database?.drop();
  });

  it('refuses to start in production without JWT_SECRET', async () => {
    const { spawnKeel } = await import('../../support/keel-process.js');
    const keel = spawnKeel({ NODE_ENV: 'production', DATABASE_URL: database.url, PORT: '0' });
    expect(await keel.exited(30_000)).toEqual({ code: 1, signal: null });
    expect(keel.stderr()).toBe(
      'Invalid configuration: JWT_SECRET is not set; it must be a string of 32 to 512 characters (required when NODE_ENV=production)\n',
    );
  });

  it('counts one client across both processes (Redis): the 6th request in the window is refused', async () => {
    const client = token('rate-limited');
    const servers = [a, b, a, b, a];
    for (const server of servers) expect((await postGraphql(server.url, '{ __typename }', undefined, client)).status).toBe(200);
    for (const server of [b, a]) {
      const refused = await postGraphql(server.url, '{ __typename }', undefined, client);
      expect(refused.status).toBe(429);
      expect(errorCodes(refused)).toEqual(['KEEL_ERR_RATE_LIMITED']);
      expect(refused.headers.get('retry-after')).not.toBeNull();
    }
    // Other clients keep their own budget.
    expect((await postGraphql(b.url, '{ __typename }', undefined, token('someone-else'))).status).toBe(200);
  });

  it('refuses a query deeper than QUERY_MAX_DEPTH', async () => {
    const r = await postGraphql(a.url, '{ myOrders(first: 1) { edges { node { lines { product { name } } } } } }', undefined, token('depth', 'customer'));
    expect(r.status).toBe(400);
    expect(errorCodes(r)).toEqual(['KEEL_ERR_QUERY_TOO_DEEP']);
  });

  it('refuses a query costlier than QUERY_MAX_COST', async () => {
    // Four deep (within QUERY_MAX_DEPTH): only the cost is over its limit.
    const r = await postGraphql(b.url, '{ products(first: 100) { edges { node { id name sku price } } } }', undefined, token('cost'));
    expect(r.status).toBe(400);
    expect(errorCodes(r)).toEqual(['KEEL_ERR_QUERY_TOO_COSTLY']);
    expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_QUERY_TOO_COSTLY', limit: 100 });
  });

  it('refuses a body larger than BODY_LIMIT_BYTES with 413 and appends nothing', async () => {
    const before = await log.count();
    const r = await postGraphql(a.url, RECEIVE, { input: { sku: 'S', quantity: 1, note: 'x'.repeat(5000) } }, token('body'));
    expect(r.status).toBe(413);
    expect(errorCodes(r)).toEqual(['KEEL_ERR_BODY_TOO_LARGE']);
    expect(await log.count()).toBe(before);
  });

  it('has introspection off and no GraphiQL in production', async () => {
    const r = await postGraphql(b.url, '{ __schema { types { name } } }', undefined, token('introspect'));
    expect(r.status).toBe(400);
    expect(errorCodes(r)[0]).toBe('KEEL_ERR_GRAPHQL_VALIDATION');
    expect(r.body.errors?.[0]?.message).toContain('introspection has been disabled');
    expect((await fetch(`${b.url}/graphiql`)).status).toBe(404);
  });

  it('sends security headers', async () => {
    const response = await fetch(`${a.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token('headers')}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('strict-transport-security')).toContain('max-age=');
    expect(response.headers.get('x-powered-by')).toBeNull();
  });

  it('masks an unexpected error (here: SQL failing) to a bare message, without SQL or stack', async () => {
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      await admin.query('alter table keel_events rename to keel_events_hidden');
      const r = await postGraphql(a.url, RECEIVE, { input: { sku: 'NEVER-LISTED', quantity: 1 } }, token('masked'));
      expect(r.body.errors).toHaveLength(1);
      expect(r.body.errors?.[0]).toMatchObject({ message: 'Internal server error.', extensions: { code: 'KEEL_ERR_INTERNAL' } });
      expect(JSON.stringify(r.body)).not.toMatch(/keel_events|relation|select|insert|\bat .*\.ts:\d+/i);
    } finally {
      await admin.query('alter table keel_events_hidden rename to keel_events');
      await admin.end();
    }
  });
});
