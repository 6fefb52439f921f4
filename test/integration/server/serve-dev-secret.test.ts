/**
 * Issue #10: without JWT_SECRET the API's tokens are signed with the public development secret, so
 * a process that serves the API refuses a non-loopback HOST before it opens anything. A projector
 * serves nothing and needs no secret: it still starts.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeel } from '../../../src/server/index.js';
import { ConfigError, loadConfig } from '../../../src/platform/config.js';
import { openDatabase } from '../../../src/platform/database.js';
import { silentLogger } from '../../support/api-app.js';
import { createTestDatabase } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';

describe('startKeel without JWT_SECRET on a non-loopback HOST', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('serve_dev_secret');
  });
  afterAll(async () => {
    await database.drop();
  });

  const tablesOf = async (): Promise<string[]> => {
    const handle = await openDatabase({ databaseUrl: database.url, dataDir: '', poolSize: 1 });
    try {
      const { rows } = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public' order by 1`.execute(handle.db);
      return rows.map((row) => row.name);
    } finally {
      await handle.close();
    }
  };

  for (const role of ['all', 'api'] as const) {
    it(`--role ${role}: refuses HOST=0.0.0.0 with a ConfigError naming HOST and JWT_SECRET, before opening anything`, async () => {
      const config = loadConfig({ DATABASE_URL: database.url, HOST: '0.0.0.0', PORT: '0', LOG_LEVEL: 'silent', NODE_ENV: 'development' });
      const started = startKeel(config, { role, handleSignals: false, logger: silentLogger() });
      // Closed again if it did start (today's behaviour), so the failure below is the only effect.
      void started.then((server) => server.close(), () => undefined);
      const error: unknown = await started.then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'KEEL_ERR_CONFIG', variables: ['HOST', 'JWT_SECRET'] });
      expect(error instanceof Error ? error.message : '').toMatch(/^Invalid configuration: HOST="0\.0\.0\.0" .*JWT_SECRET[^\n]*$/);
      expect(await tablesOf()).toEqual([]);
    });
  }

  it('--role projector: starts on HOST=0.0.0.0 without JWT_SECRET (it serves no API, only probes and metrics)', async () => {
    const config = loadConfig({ DATABASE_URL: database.url, HOST: '0.0.0.0', PORT: '0', PROJECTOR_PORT: '0', LOG_LEVEL: 'silent', NODE_ENV: 'development' });
    const server = await startKeel(config, { role: 'projector', handleSignals: false, logger: silentLogger() });
    try {
      const port = new URL(server.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST' })).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
