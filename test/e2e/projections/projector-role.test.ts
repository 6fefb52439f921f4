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

  it('runs every read model, serves only its probes and metrics, and stops on SIGTERM', async () => {
    const projector = keel(['serve', '--role', 'projector'], { DATABASE_URL: database.url, PORT: '0', PROJECTOR_PORT: '0', LOG_LEVEL: 'info' });
    const deadline = Date.now() + 60_000;
    while (!projector.output().includes('Keel projector running') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(projector.output()).toContain('Keel projector running');
    expect(projector.output()).not.toContain('Keel listening');
    const names = readModels.map((p) => p.name).sort();
    let rows: string[] = [];
    while (Date.now() < deadline) {
      rows = (await sql<{ name: string }>`select name from keel_projections order by name`.execute(handle.db).catch(() => ({ rows: [] }))).rows.map((r) => r.name);
      if (rows.length === names.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(rows).toEqual(names);
    // Its listener (PROJECTOR_PORT): probes and metrics, no API.
    const listening = /"url":"(http:\/\/[^"]+)"[^\n]*Keel projector running/.exec(projector.output())?.[1];
    expect(listening, projector.output()).toBeDefined();
    expect((await fetch(`${listening}/health`)).status).toBe(200);
    expect((await fetch(`${listening}/ready`)).status).toBe(200);
    expect((await fetch(`${listening}/graphql`, { method: 'POST' })).status).toBe(404);
    const exposition = await (await fetch(`${listening}/metrics`)).text();
    for (const name of names) expect(exposition).toMatch(new RegExp(`keel_projection_leader\\{[^}]*projection="${name}"[^}]*\\} 1`));
    expect(exposition).toContain('keel_build_info{version="');
    projector.child.kill('SIGTERM');
    expect(await projector.exited).toBe(0);
  });

  it('refuses an unknown role', async () => {
    const bad = keel(['serve', '--role', 'bogus'], { DATABASE_URL: database.url });
    expect(await bad.exited).not.toBe(0);
    expect(bad.output()).toContain("argument 'bogus' is invalid. Allowed choices are all, api, projector");
  });
});
