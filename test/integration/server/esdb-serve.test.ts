/**
 * `startKeel` with EVENTSTORE_URL set: the server opens the EventStoreDB adapter (here against
 * EsdbProtocolDouble, an in-process FAKE of EventStoreDB's gRPC protocol, not EventStoreDB), keeps
 * PostgreSQL for everything else, and serves /health.
 */
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../../src/api/tokens.js';
import { startKeel } from '../../../src/server/index.js';
import { DEVELOPMENT_JWT_SECRET, loadConfig } from '../../../src/platform/config.js';
import { openDatabase } from '../../../src/platform/database.js';
import { createLogger } from '../../../src/platform/logger.js';
import { createTestDatabase } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';
import { EsdbProtocolDouble } from '../../support/esdb-double/index.js';

describe('startKeel with EVENTSTORE_URL (EventStoreDB protocol double, fake)', () => {
  let database: TestDatabase;
  let double: EsdbProtocolDouble;
  beforeAll(async () => {
    database = await createTestDatabase('esdb_serve');
    double = await EsdbProtocolDouble.start();
  });
  afterAll(async () => {
    await double?.close();
    await database?.drop();
  });

  it('runs on the EventStoreDB adapter, serves /health, and creates no event-store tables in PostgreSQL', async () => {
    const config = loadConfig({ DATABASE_URL: database.url, EVENTSTORE_URL: double.url, PORT: '0', LOG_LEVEL: 'info', NODE_ENV: 'test' });
    const lines: string[] = [];
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const server = await startKeel(config, { handleSignals: false, logger: createLogger(config, capture) });
    try {
      const response = await fetch(`${server.url}/health`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok' });
      // The checks, for an admin (JWT_SECRET unset: the development secret, on loopback).
      const admin = signToken({ subject: 'ada', roles: ['admin'], secret: DEVELOPMENT_JWT_SECRET, expiresInSeconds: 600 });
      const detailed = await fetch(`${server.url}/health`, { headers: { authorization: `Bearer ${admin}` } });
      expect(await detailed.json()).toMatchObject({ status: 'ok', checks: { database: 'ok', eventstore: 'ok' } });
      const opened = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.msg === 'stores open');
      expect(opened).toMatchObject({ database: 'postgres', eventStore: 'eventstoredb' });
    } finally {
      await server.close();
    }
    const handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    try {
      const { rows } = await sql<{ name: string | null }>`select to_regclass('keel_events')::text as name`.execute(handle.db);
      expect(rows[0]?.name).toBeNull();
    } finally {
      await handle.close();
    }
  });

  it('refuses an EVENTSTORE_URL that the client cannot parse, naming the variable', async () => {
    const config = loadConfig({ DATABASE_URL: database.url, EVENTSTORE_URL: 'esdb://127.0.0.1:2113?tls=maybe', PORT: '0', LOG_LEVEL: 'silent' });
    await expect(startKeel(config, { handleSignals: false })).rejects.toMatchObject({
      code: 'KEEL_ERR_CONFIG',
      message: expect.stringContaining('EVENTSTORE_URL'),
    });
  });
});
