import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../../src/api/tokens.js';
import { startKeel } from '../../../src/server/index.js';
import { DEVELOPMENT_JWT_SECRET, loadConfig } from '../../../src/platform/config.js';
import { createTestDatabase } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';

describe('startKeel in-process on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('serve');
  });
  afterAll(async () => {
    await database.drop();
  });

  it('serves /health, then closes idempotently and stops listening', async () => {
    const config = loadConfig({ DATABASE_URL: database.url, PORT: '0', LOG_LEVEL: 'silent', NODE_ENV: 'test' });
    const server = await startKeel(config, { handleSignals: false });
    const listenersBefore = process.listenerCount('SIGTERM');

    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    // An admin sees every check (JWT_SECRET unset: the development secret, on loopback).
    const admin = signToken({ subject: 'ada', roles: ['admin'], secret: DEVELOPMENT_JWT_SECRET, expiresInSeconds: 600 });
    const detailed = await fetch(`${server.url}/health`, { headers: { authorization: `Bearer ${admin}` } });
    expect(detailed.status).toBe(200);
    expect(await detailed.json()).toEqual({ status: 'ok', checks: { database: 'ok', eventstore: 'ok' } });

    await Promise.all([server.close(), server.close()]);
    await server.close();
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
    expect(process.listenerCount('SIGTERM')).toBe(listenersBefore);
  });

  it('removes its signal handlers when closed', async () => {
    const before = process.listenerCount('SIGTERM');
    const config = loadConfig({ DATABASE_URL: database.url, PORT: '0', LOG_LEVEL: 'silent', NODE_ENV: 'test' });
    const server = await startKeel(config);
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    await server.close();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  // With EVENTSTORE_URL set, Keel runs on the EventStoreDB adapter: test/integration/server/esdb-serve.test.ts.
});
