/**
 * Issue #10 as an operator meets it: `HOST=0.0.0.0 npm start` without JWT_SECRET stops with one
 * line (the public development secret would let anyone who reaches the server mint an admin
 * token), while `keel config` still shows the configuration.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnKeel } from '../../support/keel-process.js';
import type { KeelProcess } from '../../support/keel-process.js';

const running: KeelProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const p of running.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const spawnIn = async (env: Record<string, string>, args?: readonly string[]): Promise<KeelProcess> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'keel-e2e-host-'));
  dirs.push(dataDir);
  // spawnKeel removes JWT_SECRET and HOST inherited from the parent.
  const p = spawnKeel({ KEEL_DATA_DIR: dataDir, NODE_ENV: 'development', LOG_LEVEL: 'info', PORT: '0', ...env }, args);
  running.push(p);
  return p;
};

describe('a non-loopback HOST without JWT_SECRET', () => {
  it('npm start with HOST=0.0.0.0 exits 1 with one line naming HOST and JWT_SECRET, and listens on nothing', async () => {
    const keel = await spawnIn({ HOST: '0.0.0.0' });
    expect(await keel.exited(30_000)).toEqual({ code: 1, signal: null });
    expect(keel.stderr()).toMatch(/^Invalid configuration: HOST="0\.0\.0\.0" [^\n]*JWT_SECRET[^\n]*\n$/);
    expect(keel.stdout()).not.toContain('listening');
  });

  it('keel config still works (and shows the HOST)', async () => {
    const keel = await spawnIn({ HOST: '0.0.0.0' }, ['config', '--json']);
    expect(await keel.exited(30_000)).toEqual({ code: 0, signal: null });
    expect(JSON.parse(keel.stdout())).toMatchObject({ HOST: '0.0.0.0' });
  });
});
