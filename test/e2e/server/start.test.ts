import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { signToken } from '../../../src/api/tokens.js';
import { DEVELOPMENT_JWT_SECRET } from '../../../src/platform/config.js';
import { spawnKeel } from '../../support/keel-process.js';
import type { KeelProcess } from '../../support/keel-process.js';

const running: KeelProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const p of running.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const start = async (env: Record<string, string>): Promise<KeelProcess> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'keel-e2e-'));
  dirs.push(dataDir);
  const p = spawnKeel({ KEEL_DATA_DIR: dataDir, NODE_ENV: 'test', ...env });
  running.push(p);
  return p;
};

const pollHealth = async (url: string, timeoutMs = 30_000): Promise<Response> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${url}/health`);
      if (response.status === 200 || Date.now() > deadline) return response;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

describe('npm start (src/main.ts) as a real process', () => {
  it('serves /health on embedded PGlite and exits 0 on SIGTERM', async () => {
    const keel = await start({ PORT: '0', HOST: '127.0.0.1' });
    const url = await keel.waitForUrl();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const response = await pollHealth(url);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    // The checks, for an admin (JWT_SECRET unset: the development secret, on loopback).
    const admin = signToken({ subject: 'ada', roles: ['admin'], secret: DEVELOPMENT_JWT_SECRET, expiresInSeconds: 600 });
    const detailed = await fetch(`${url}/health`, { headers: { authorization: `Bearer ${admin}` } });
    expect(detailed.status).toBe(200);
    expect(await detailed.json()).toEqual({ status: 'ok', checks: { database: 'ok', eventstore: 'ok' } });

    keel.child.kill('SIGTERM');
    expect(await keel.exited(10_000)).toEqual({ code: 0, signal: null });
    expect(keel.stdout()).toContain('Keel stopped');
  });

  it('stops with exit code 1 and one line naming the variable on a bad PORT', async () => {
    const keel = await start({ PORT: 'abc' });
    expect(await keel.exited(30_000)).toEqual({ code: 1, signal: null });
    expect(keel.stderr()).toBe('Invalid configuration: PORT="abc" must be an integer between 0 and 65535\n');
    expect(keel.stdout()).toBe('');
  });
});
