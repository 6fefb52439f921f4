/**
 * Issue #10, TRUST_PROXY: behind a load balancer every request comes from the balancer's address,
 * so the rate limiter (anonymous clients are keyed by `request.ip`) must read X-Forwarded-For to
 * tell clients apart, and only when told to (a client could otherwise forge the header).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeel } from '../../../src/server/index.js';
import { loadConfig } from '../../../src/platform/config.js';
import { silentLogger, TEST_JWT_SECRET } from '../../support/api-app.js';
import { createTestDatabase } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';

const ping = async (url: string, forwardedFor: string): Promise<number> => {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  await response.arrayBuffer();
  return response.status;
};

describe('TRUST_PROXY and the per-client rate limit (RATE_LIMIT_MAX=2)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('api_trust_proxy');
  });
  afterAll(async () => {
    await database.drop();
  });

  const withServer = async (env: Record<string, string>, work: (url: string) => Promise<void>): Promise<void> => {
    const config = loadConfig({
      DATABASE_URL: database.url,
      PORT: '0',
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
      JWT_SECRET: TEST_JWT_SECRET,
      RATE_LIMIT_MAX: '2',
      RATE_LIMIT_WINDOW_MS: '60000',
      ...env,
    });
    const server = await startKeel(config, { role: 'api', handleSignals: false, logger: silentLogger() });
    try {
      await work(server.url);
    } finally {
      await server.close();
    }
  };

  it('unset: X-Forwarded-For is ignored, two "clients" on one connection share one budget', async () => {
    await withServer({}, async (url) => {
      expect([await ping(url, '203.0.113.1'), await ping(url, '203.0.113.1')]).toEqual([200, 200]);
      expect(await ping(url, '203.0.113.2')).toBe(429);
    });
  });

  for (const trustProxy of ['true', '127.0.0.1', '1']) {
    it(`TRUST_PROXY=${trustProxy}: clients are told apart by X-Forwarded-For, each with its own budget`, async () => {
      await withServer({ TRUST_PROXY: trustProxy }, async (url) => {
        expect([await ping(url, '203.0.113.1'), await ping(url, '203.0.113.1')]).toEqual([200, 200]);
        expect(await ping(url, '203.0.113.1')).toBe(429);
        expect([await ping(url, '203.0.113.2'), await ping(url, '203.0.113.2')]).toEqual([200, 200]);
        expect(await ping(url, '203.0.113.2')).toBe(429);
      });
    });
  }
});
