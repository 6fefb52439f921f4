import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis } from '../../../src/platform/redis.js';
import type { Redis } from '../../../src/platform/redis.js';
import { redisTestPrefix, redisTestUrl } from '../../support/database.js';
import { codes, gql, openApiHarness, tokenFor } from '../../support/api-app.js';
import type { ApiHarness } from '../../support/api-app.js';
import { countEvents, openWriteSide } from '../../support/write-side.js';
import type { WriteSide } from '../../support/write-side.js';

const admin = tokenFor('ada', ['admin']);
const alice = tokenFor('alice', ['customer']);
const RECEIVE = 'mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { streamId } }';

describe('API limits (app.inject)', () => {
  let side: WriteSide;
  const harnesses: ApiHarness[] = [];
  const open = async (env: Record<string, string>, extra: { redis?: Redis } = {}): Promise<ApiHarness> => {
    const h = await openApiHarness('api_limits', { side, env, ...extra });
    harnesses.push(h);
    return h;
  };
  beforeAll(async () => {
    side = await openWriteSide('api_limits');
  });
  afterAll(async () => {
    for (const h of harnesses) await h.close();
    await side.close();
  });

  it('refuses a query nested deeper than QUERY_MAX_DEPTH', async () => {
    const h = await open({ QUERY_MAX_DEPTH: '4' });
    const deep = await gql(h.app, '{ myOrders { edges { node { lines { product { name } } } } } }', undefined, alice);
    expect(deep.status).toBe(400);
    expect(codes(deep)).toEqual(['KEEL_ERR_QUERY_TOO_DEEP']);
    expect(deep.body.errors?.[0]?.message).toContain('exceeds the query depth limit of 4');
    const shallow = await gql(h.app, '{ myOrders { edges { node { id } } } }', undefined, alice);
    expect(codes(shallow)).toEqual(['KEEL_ERR_READ_SIDE_UNAVAILABLE']);
    // Outside production, the introspection query GraphiQL and code generators send (13 deep) is
    // exempt, so "re-fetch schema" works; in production introspection is refused whatever its depth.
    const introspection = await gql(h.app, getIntrospectionQuery());
    expect(introspection.status).toBe(200);
    expect(introspection.body.errors).toBeUndefined();
    expect(JSON.stringify(introspection.body.data)).toContain('"name":"placeOrder"');
    const prod = await open({ QUERY_MAX_DEPTH: '4', NODE_ENV: 'production' });
    const refused = await gql(prod.app, getIntrospectionQuery());
    expect(refused.status).toBe(400);
    expect(codes(refused)).toContain('KEEL_ERR_GRAPHQL_VALIDATION');
  });

  it('refuses a query whose estimated cost exceeds QUERY_MAX_COST (pages multiply)', async () => {
    const h = await open({ QUERY_MAX_COST: '100' });
    const costly = await gql(h.app, 'query ($n: Int) { products(first: $n) { edges { node { id name availability { available } } } } }', { n: 100 });
    expect(costly.status).toBe(400);
    expect(costly.body.errors?.[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_QUERY_TOO_COSTLY', limit: 100 });
    const cheap = await gql(h.app, 'query ($n: Int) { products(first: $n) { edges { node { id name availability { available } } } } }', { n: 2 });
    expect(codes(cheap)).toEqual(['KEEL_ERR_READ_SIDE_UNAVAILABLE']);
    // The same text, now known (parsed and validated once), is measured again with each request's
    // variables: a cheap request first must not let a costly one through.
    const costlyAgain = await gql(h.app, 'query ($n: Int) { products(first: $n) { edges { node { id name availability { available } } } } }', { n: 60 });
    expect(costlyAgain.status).toBe(400);
    expect(codes(costlyAgain)).toEqual(['KEEL_ERR_QUERY_TOO_COSTLY']);
  });

  it('refuses a body larger than BODY_LIMIT_BYTES with 413, appending nothing', async () => {
    const h = await open({ BODY_LIMIT_BYTES: '2048' });
    const before = await countEvents(side);
    const big = await gql(h.app, RECEIVE, { input: { sku: 'SKU-1', quantity: 1, padding: 'x'.repeat(4000) } }, admin);
    expect(big.status).toBe(413);
    expect(codes(big)).toEqual(['KEEL_ERR_BODY_TOO_LARGE']);
    expect(await countEvents(side)).toBe(before);
  });

  it('limits requests per client (token subject, else IP) in memory without Redis', async () => {
    const h = await open({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '600000' });
    const query = '{ __typename }';
    for (let i = 0; i < 3; i++) expect((await gql(h.app, query, undefined, alice)).status).toBe(200);
    const limited = await gql(h.app, query, undefined, alice);
    expect(limited.status).toBe(429);
    expect(codes(limited)).toEqual(['KEEL_ERR_RATE_LIMITED']);
    expect(limited.headers['retry-after']).toBeDefined();
    // Another client (another subject) has its own budget.
    expect((await gql(h.app, query, undefined, admin)).status).toBe(200);
  });

  it('shares the rate-limit counters through Redis between two API instances', async () => {
    const prefix = redisTestPrefix('api-limits');
    const redisA = await openRedis(redisTestUrl());
    const redisB = await openRedis(redisTestUrl());
    try {
      const env = { RATE_LIMIT_MAX: '4', RATE_LIMIT_WINDOW_MS: '600000', REDIS_KEY_PREFIX: prefix };
      const a = await open(env, { redis: redisA });
      const b = await open(env, { redis: redisB });
      const query = '{ __typename }';
      expect((await gql(a.app, query, undefined, alice)).status).toBe(200);
      expect((await gql(b.app, query, undefined, alice)).status).toBe(200);
      expect((await gql(a.app, query, undefined, alice)).status).toBe(200);
      expect((await gql(b.app, query, undefined, alice)).status).toBe(200);
      expect(codes(await gql(a.app, query, undefined, alice))).toEqual(['KEEL_ERR_RATE_LIMITED']);
      expect(codes(await gql(b.app, query, undefined, alice))).toEqual(['KEEL_ERR_RATE_LIMITED']);
      expect(await redisA.keys(`${prefix}rate-limit:*`)).toEqual([`${prefix}rate-limit:sub:alice`]);
    } finally {
      const keys = await redisA.keys(`${prefix}*`);
      if (keys.length > 0) await redisA.del(...keys);
      redisA.disconnect();
      redisB.disconnect();
    }
  });

  it('allows introspection outside production and refuses it in production', async () => {
    const dev = await open({});
    const schema = await gql(dev.app, '{ __schema { queryType { name } } }');
    expect(schema.body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const prod = await open({ NODE_ENV: 'production' });
    const refused = await gql(prod.app, '{ __schema { queryType { name } } }');
    expect(refused.status).toBe(400);
    // graphql reports each introspection field (__schema, queryType): every error says so.
    expect(codes(refused).length).toBeGreaterThan(0);
    for (const error of refused.body.errors ?? []) {
      expect(error.extensions?.code).toBe('KEEL_ERR_GRAPHQL_VALIDATION');
      expect(error.message).toContain('introspection has been disabled');
    }
    const typo = await gql(prod.app, '{ prodcts { edges { node { id } } } }');
    expect(typo.body.errors?.[0]?.message).toBe('Cannot query field "prodcts" on type "Query".');
    const typoInDev = await gql(dev.app, '{ prodcts { edges { node { id } } } }');
    expect(typoInDev.body.errors?.[0]?.message).toContain('Did you mean "products"');
  });

  it('masks unexpected errors in production (no message, no stack, no SQL) and names them in development', async () => {
    const broken = await openWriteSide('api_limits_broken');
    const prod = await openApiHarness('api_limits_broken', { side: broken, env: { NODE_ENV: 'production' } });
    const dev = await openApiHarness('api_limits_broken', { side: broken, env: { NODE_ENV: 'development' } });
    await broken.close(); // the event store's pool is gone: every command now fails unexpectedly
    try {
      const masked = await gql(prod.app, RECEIVE, { input: { sku: 'SKU-1', quantity: 1 } }, admin);
      expect(masked.body.errors).toEqual([
        { message: 'Internal server error.', locations: [{ line: 1, column: 41 }], path: ['receiveStock'], extensions: { code: 'KEEL_ERR_INTERNAL', requestId: expect.any(String) } },
      ]);
      const named = await gql(dev.app, RECEIVE, { input: { sku: 'SKU-1', quantity: 1 } }, admin);
      expect(named.body.errors?.[0]?.extensions?.code).toBe('KEEL_ERR_INTERNAL');
      expect(named.body.errors?.[0]?.message).not.toBe('Internal server error.');
      expect(JSON.stringify(named.body)).not.toMatch(/\n\s+at /);
    } finally {
      await prod.app.close();
      await dev.app.close();
    }
  });

  it('sends security headers, and serves GraphiQL (self-hosted, with a CSP that allows no other origin) only in development', async () => {
    const prod = await open({ NODE_ENV: 'production' });
    // The API's set (OWASP's REST list) on every JSON response: a query, /health, a 404, an error.
    const apiHeaders = {
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'cross-origin-resource-policy': 'same-origin',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    };
    for (const response of [
      await gql(prod.app, '{ __typename }'),
      await prod.app.inject('/health'),
      await prod.app.inject('/nowhere'),
      await gql(prod.app, '{ nope }'),
    ]) {
      expect(response.headers).toMatchObject(apiHeaders);
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
    expect((await prod.app.inject('/graphiql')).statusCode).toBe(404);

    const dev = await open({ NODE_ENV: 'development' });
    const page = await dev.app.inject('/graphiql');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('graphiql/main.js');
    expect(page.headers['content-security-policy']).toContain("script-src 'self';");
    expect(page.headers['content-security-policy']).toContain("connect-src 'self' ws: wss:");
    expect(page.headers['content-security-policy']).not.toContain('unpkg.com');
    // A rendered page: helmet's headers (its own cache policy), not the API's.
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(page.headers['cache-control']).toBe('no-cache');
  });

  it('answers malformed requests with 400 and a clear error', async () => {
    const h = await open({});
    const badJson = await h.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: '{"query": ' });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().errors[0].extensions.code).toBe('KEEL_ERR_GRAPHQL_VALIDATION');
    const noQuery = await h.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(noQuery.statusCode).toBe(400);
    expect(noQuery.json().errors[0]).toMatchObject({ message: 'The request has no GraphQL query.', extensions: { code: 'KEEL_ERR_GRAPHQL_VALIDATION' } });
    const syntax = await gql(h.app, '{ products { edges ');
    expect(syntax.status).toBe(400);
    expect(syntax.body.errors?.[0]).toMatchObject({ message: expect.stringContaining('Syntax Error'), extensions: { code: 'KEEL_ERR_GRAPHQL_VALIDATION' } });
    const getMutation = await h.app.inject({ method: 'GET', url: `/graphql?query=${encodeURIComponent('mutation { receiveStock(input: { sku: "S", quantity: 1 }) { streamId } }')}` });
    expect(getMutation.statusCode).toBe(405);
    const badToken = await gql(h.app, '{ product(id: "p", consistencyToken: "v1.bm90LWEtbnVtYmVy") { id } }');
    expect(badToken.body.errors?.[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_VALIDATION', field: 'consistencyToken' });
    const bigPage = await gql(h.app, '{ products(first: 101) { edges { node { id } } } }');
    expect(bigPage.body.errors?.[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_VALIDATION', field: 'first' });
  });

  it('serves GET /ready beside GET /health', async () => {
    const h = await open({});
    const ready = await h.app.inject('/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok' });
    // Each check, for an admin.
    const detailed = await h.app.inject({ method: 'GET', url: '/ready', headers: { authorization: `Bearer ${admin}` } });
    expect(detailed.statusCode).toBe(200);
    expect(detailed.json()).toEqual({ status: 'ok', checks: { database: 'ok', eventstore: 'ok', projections: 'ok' } });
  });
});
