/**
 * The servers under load, each a process of its own (so the load generator in this process never
 * shares a thread with them): Keel itself (`src/main.ts`, what `npm start` runs) and the ceiling
 * (./ceiling-server.ts), each on a port of 127.0.0.1 chosen here (Keel logs its URL at info, and the
 * bench runs it at LOG_LEVEL=warn).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcess {
  readonly url: string;
  readonly pid: number | undefined;
  /** Output so far (for error messages). */
  readonly output: () => string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** The environment of the parent without the variables that would point the child elsewhere. */
const baseEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'EVENTSTORE_URL', 'PORT', 'HOST', 'KEEL_DATA_DIR', 'NODE_OPTIONS']) delete env[name];
  return env;
};

/** A free TCP port on 127.0.0.1 (the child binds it a moment later). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

const answers = async (url: string): Promise<boolean> => {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
};

/**
 * Runs `node [nodeArgs] --import tsx <script>` from the repository root, told to listen on
 * 127.0.0.1:`port` (PORT, HOST), and waits until `readyPath` answers (any HTTP status).
 */
export const startServerProcess = async (
  script: string,
  env: Readonly<Record<string, string>>,
  options: { readonly port: number; readonly readyPath: string; readonly nodeArgs?: readonly string[]; readonly timeoutMs?: number },
): Promise<ServerProcess> => {
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...baseEnv(), ...env, PORT: String(options.port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out = (out + chunk).slice(-20_000)));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (out = (out + chunk).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${script} exited (${child.exitCode ?? child.signalCode}) before listening\n${out}`);
    if (await answers(`${url}${options.readyPath}`)) break;
    if (Date.now() > deadline) {
      await stop(1_000);
      throw new Error(`${script} did not answer on ${url} within ${options.timeoutMs ?? 60_000} ms\n${out}`);
    }
    await sleep(200);
  }
  return { url, pid: child.pid, output: () => out, stop };
};

/** A database of `npm run bench`'s PostgreSQL (KEEL_TEST_DATABASE_URL) for a workload that runs a server. */
export const benchDatabaseUrl = (database: string, workload: string): string => {
  const admin = process.env.KEEL_TEST_DATABASE_URL;
  if (!admin) throw new Error(`the ${workload} workload needs PostgreSQL: run \`npm run bench\` (KEEL_TEST_DATABASE_URL), not --embedded`);
  const url = new URL(admin);
  url.pathname = `/${database}`;
  return url.toString();
};

/** `npm run bench`'s Redis (KEEL_TEST_REDIS_URL), for a workload that runs a server. */
export const benchRedisUrl = (workload: string): string => {
  const url = process.env.KEEL_TEST_REDIS_URL;
  if (!url) throw new Error(`the ${workload} workload needs Redis: run \`npm run bench\` (it sets KEEL_TEST_REDIS_URL)`);
  return url;
};
