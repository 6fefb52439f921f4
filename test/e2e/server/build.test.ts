/**
 * `npm run build` and the `keel` launcher (bin/keel.js): the build compiles src/ to dist/ with the
 * inspector's page beside it, and `keel` runs the compiled code while the build is newer than
 * every source, the TypeScript sources through tsx otherwise (a stale build never runs).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

const keel = (...args: string[]) => {
  const env: NodeJS.ProcessEnv = { ...process.env, KEEL_LAUNCHER_TRACE: '1' };
  for (const name of ['DATABASE_URL', 'EVENTSTORE_URL', 'KEEL_DATA_DIR']) delete env[name];
  return spawnSync(process.execPath, ['bin/keel.js', ...args], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
};

describe('npm run build and the keel launcher', { timeout: 180_000 }, () => {
  it('builds dist/ (with the inspector page), runs it while fresh, and the sources once it is stale', () => {
    const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, encoding: 'utf8', timeout: 150_000 });
    expect(build.status, build.stderr).toBe(0);
    expect(existsSync(`${root}dist/cli/main.js`)).toBe(true);
    expect(existsSync(`${root}dist/api/inspector/assets/index.html`)).toBe(true);

    const fresh = keel('config', '--json');
    expect(fresh.status, fresh.stderr).toBe(0);
    expect(fresh.stderr).toMatch(/^keel: running dist\/ \(built /);
    expect(JSON.parse(fresh.stdout)).toMatchObject({ PORT: expect.any(String) });

    // A build older than the sources (as after a `git pull`) is never run.
    const stamp = `${root}dist/BUILD.json`;
    const original = readFileSync(stamp, 'utf8');
    try {
      writeFileSync(stamp, JSON.stringify({ startedAt: '2000-01-01T00:00:00.000Z' }));
      const stale = keel('config', '--json');
      expect(stale.status, stale.stderr).toBe(0);
      expect(stale.stderr).toContain('keel: running src/ through tsx');
    } finally {
      writeFileSync(stamp, original);
    }
  });
});
