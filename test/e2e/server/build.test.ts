/**
 * `npm run build` and what production runs from it. The compiled tree (built here into a temporary
 * folder, `scripts/build.mjs --out-dir`, so dist/ is left to the launcher and the other tests) runs
 * on its own as production does: `node dist/cli/main.js serve --role api` with NODE_ENV=production,
 * from a folder outside the repository holding only the build, package.json and the dependencies,
 * against the test PostgreSQL and Redis (its node_modules is the repository's, linked); no TypeScript
 * import is left in it, none of its imports leaves it, and every package it imports is one of
 * package.json's "dependencies", which is all `npm ci --omit=dev` installs. Then the `keel` launcher (bin/keel.js): the build compiles src/ to dist/ with the
 * inspector's page beside it, and `keel` runs the compiled code while the build is newer than every
 * source, the TypeScript sources through tsx otherwise (a stale build never runs).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../../src/api/tokens.js';
import { errorCodes, postGraphql } from '../../support/api-server.js';
import { createTestDatabase, redisTestPrefix, redisTestUrl } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';
import { NO_SHEDDING } from '../../support/no-shedding.js';
import { within } from '../../support/within.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const SECRET = 'build-test-secret-0123456789abcdefghijklmn';

const keel = (...args: string[]) => {
  const env: NodeJS.ProcessEnv = { ...process.env, KEEL_LAUNCHER_TRACE: '1' };
  for (const name of ['DATABASE_URL', 'EVENTSTORE_URL', 'KEEL_DATA_DIR']) delete env[name];
  return spawnSync(process.execPath, ['bin/keel.js', ...args], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
};

/** `node scripts/build.mjs …args`, asynchronously: the two builds below run side by side (tsc uses one core). */
const build = (...args: string[]): Promise<{ status: number | null; output: string }> =>
  new Promise((done) => {
    const child = spawn(process.execPath, ['scripts/build.mjs', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('exit', (status) => done({ status, output }));
  });

const app = mkdtempSync(join(tmpdir(), 'keel-build-'));
let builds: Promise<[production: Awaited<ReturnType<typeof build>>, launcher: Awaited<ReturnType<typeof build>>]>;
beforeAll(() => {
  builds = Promise.all([build('--out-dir', join(app, 'dist')), build()]);
});
afterAll(() => rmSync(app, { recursive: true, force: true }));

/**
 * The specifiers of a compiled module's `import … from '…'` / `export … from '…'` statements (tsc
 * starts each on a line), `import '…'` and `import('…')`.
 */
const specifiers = (code: string): string[] =>
  [
    ...code.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*(['"])([^'"\n]+)\1/gm),
    ...code.matchAll(/^import\s*(['"])([^'"\n]+)\1/gm),
    ...code.matchAll(/\bimport\(\s*(['"])([^'"\n]+)\1\s*\)/g),
  ].map((match) => match[2] ?? '');

describe('the compiled build, run as production runs it (no tsx, no src/)', { timeout: 120_000 }, () => {
  let database: TestDatabase;
  let server: ChildProcess | undefined;
  beforeAll(async () => {
    const [production] = await builds;
    expect(production.status, production.output).toBe(0);
    // What a production image holds: the build, package.json (its "type": "module") and node_modules.
    copyFileSync(join(root, 'package.json'), join(app, 'package.json'));
    symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'), 'dir');
    database = await createTestDatabase('build_prod');
  }, 120_000);
  afterAll(async () => {
    if (server !== undefined && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    await database?.drop();
  });

  it('holds no TypeScript import, every relative import resolves inside the build, and every package it imports is a production dependency', () => {
    const dist = join(app, 'dist');
    const manifest: unknown = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const dependencies = Object.keys(Object(Reflect.get(Object(manifest), 'dependencies')));
    const modules = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.js') && !file.includes('assets'));
    expect(modules.length).toBeGreaterThan(50);
    const wrong: string[] = [];
    for (const file of modules) {
      for (const specifier of specifiers(readFileSync(join(dist, file), 'utf8'))) {
        if (/\.[cm]?tsx?$/.test(specifier) || specifier === 'tsx' || specifier.startsWith('tsx/')) wrong.push(`${file}: ${specifier}`);
        if (specifier.startsWith('.')) {
          const target = resolve(dirname(join(dist, file)), specifier);
          if (!target.startsWith(`${dist}/`) || !existsSync(target)) wrong.push(`${file}: ${specifier} (outside the build or missing)`);
        } else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier)) {
          // `npm ci --omit=dev` installs these only.
          const name = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
          if (!dependencies.includes(name)) wrong.push(`${file}: ${specifier} (not in package.json "dependencies")`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(existsSync(join(dist, 'api/inspector/assets/index.html'))).toBe(true);
  });

  it('serves /health, GraphQL (a write and an admin read) and the inspector page from outside the repository, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(app, 'dist/cli/main.js'), 'serve', '--role', 'api'], {
      cwd: app,
      env: {
        PATH: process.env.PATH ?? '',
        ...NO_SHEDDING,
        NODE_ENV: 'production',
        JWT_SECRET: SECRET,
        DATABASE_URL: database.url,
        REDIS_URL: redisTestUrl(),
        REDIS_KEY_PREFIX: redisTestPrefix('build-prod'),
        PORT: '0',
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server = child;
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
    const listening = new Promise<string>((done, fail) => {
      const check = (): void => {
        const url = /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1];
        if (url !== undefined) done(url);
      };
      child.stdout.on('data', check);
      void exited.then(({ code, signal }) => fail(new Error(`the build exited (${code ?? signal}) before listening\n${err}`)));
    });
    const url = await within(listening, 60_000, () => `the build did not log its URL (stdout:\n${out}\nstderr:\n${err})`);

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const admin = signToken({ subject: 'ada', roles: ['admin'], secret: SECRET, expiresInSeconds: 600 });
    const listed = await postGraphql(
      url,
      'mutation ($input: ListProductInput!) { listProduct(input: $input) { streamId eventTypes } }',
      { input: { productId: 'built-kettle', sku: 'BUILT-KETTLE', name: 'Kettle', price: 2999, currency: 'EUR' } },
      admin,
    );
    expect(listed.body).toEqual({ data: { listProduct: { streamId: 'product-built-kettle', eventTypes: ['ProductListed'] } } });
    const status = await postGraphql(url, '{ projectionStatus { name } }', undefined, admin);
    expect(status.body.errors).toBeUndefined();
    expect(status.body.data?.projectionStatus).toEqual(expect.arrayContaining([{ name: 'catalog' }]));
    expect(errorCodes(await postGraphql(url, '{ projectionStatus { name } }'))).toEqual(['UNAUTHENTICATED']);

    const page = await fetch(`${url}/inspector`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('inspector.js');

    child.kill('SIGTERM');
    expect(await within(exited, 15_000, 'the build did not exit on SIGTERM')).toEqual({ code: 0, signal: null });
    expect(out).toContain('Keel stopped');
  });
});

describe('npm run build and the keel launcher', { timeout: 180_000 }, () => {
  it('builds dist/ (with the inspector page), runs it while fresh, and the sources once it is stale', async () => {
    const [, launcher] = await builds;
    expect(launcher.status, launcher.output).toBe(0);
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
