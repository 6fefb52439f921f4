/**
 * The security headers are computed once (src/api/security.ts) rather than by @fastify/helmet on
 * each request: they must be exactly the plugin's, for the production and the development (GraphiQL)
 * policies, on every route (404s included).
 */
import helmetPlugin from '@fastify/helmet';
import { fastify } from 'fastify';
import { describe, expect, it } from 'vitest';
import { helmetOptions, securityHeaders } from '../../../src/api/security.js';

const HEADERS_OF_FASTIFY = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive']);

const securityHeadersOf = (headers: Readonly<Record<string, unknown>>): [string, unknown][] =>
  Object.entries(headers).filter(([name]) => !HEADERS_OF_FASTIFY.has(name));

describe('security headers computed once', () => {
  it.each([false, true])('are exactly @fastify/helmet’s (graphiql: %s), in the same order, on routes and 404s', async (graphiql) => {
    const viaPlugin = fastify();
    await viaPlugin.register(helmetPlugin, helmetOptions(graphiql));
    viaPlugin.get('/x', async () => ({ ok: true }));
    const precomputed = fastify();
    precomputed.addHook('onRequest', securityHeaders(helmetOptions(graphiql)));
    precomputed.get('/x', async () => ({ ok: true }));
    try {
      for (const url of ['/x', '/missing']) {
        const expected = await viaPlugin.inject(url);
        const actual = await precomputed.inject(url);
        expect(actual.statusCode).toBe(expected.statusCode);
        expect(securityHeadersOf(actual.headers)).toEqual(securityHeadersOf(expected.headers));
        expect(securityHeadersOf(actual.headers).length).toBeGreaterThan(5);
      }
    } finally {
      await viaPlugin.close();
      await precomputed.close();
    }
  });
});
