/**
 * `keel serve --role projector` runs the projections (the real read models) and the process
 * manager without HTTP; SIGTERM stops it gracefully. A bad role is refused before anything starts.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../../src/platform/database.js';
import { readModels } from '../../../src/projections/read-models/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

const keel = (args: string[], env: Record<string, string>) => {
  const base = { ...process.env };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'EVENTSTORE_URL', 'PORT', 'KEEL_DATA_DIR']) delete base[name];
  const child = spawn(process.execPath, ['bin/keel.js', ...args], { cwd: root, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
};

describe('keel serve --role projector', { timeout: 120_000 }, () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    database = await createTestDatabase('projector_role');
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
  });
  afterAll(async () => {
    await handle.close();
    await database.drop();
  });

  it('runs every read model without listening for HTTP, and stops on SIGTERM', async () => {
    const projector = keel(['serve', '--role', 'projector'], { DATABASE_URL: database.url, PORT: '0', LOG_LEVEL: 'info' });
    const deadline = Date.now() + 60_000;
    while (!projector.output().includes('Keel projector running (no HTTP)') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(projector.output()).toContain('Keel projector running (no HTTP)');
    expect(projector.output()).not.toContain('Keel listening');
    const names = readModels.map((p) => p.name).sort();
    let rows: string[] = [];
    while (Date.now() < deadline) {
      rows = (await sql<{ name: string }>`select name from keel_projections order by name`.execute(handle.db).catch(() => ({ rows: [] }))).rows.map((r) => r.name);
      if (rows.length === names.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(rows).toEqual(names);
    projector.child.kill('SIGTERM');
    expect(await projector.exited).toBe(0);
  });

  it('refuses an unknown role', async () => {
    const bad = keel(['serve', '--role', 'bogus'], { DATABASE_URL: database.url });
    expect(await bad.exited).not.toBe(0);
    expect(bad.output()).toContain("argument 'bogus' is invalid. Allowed choices are all, api, projector");
  });
});
