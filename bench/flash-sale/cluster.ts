/**
 * The system under test, as real processes on 127.0.0.1: the fake payment provider, API processes
 * (`keel serve --role api`) and projector processes (`--role projector`), each killable and
 * restartable, plus the machine's PostgreSQL and Redis, which faults stop and start again.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from '../api/processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TAIL = 40_000;

/** The environment of the parent without what would point a child elsewhere. */
const baseEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const name of ['DATABASE_URL', 'DATABASE_READ_URL', 'REDIS_URL', 'EVENTSTORE_URL', 'PORT', 'HOST', 'KEEL_DATA_DIR', 'NODE_OPTIONS', 'PAYMENT_PROVIDER_URL']) delete env[name];
  return env;
};

export interface ManagedProcess {
  readonly name: string;
  readonly url: string | undefined;
  pid(): number | undefined;
  running(): boolean;
  /** Output of the current and earlier lives (the tail). */
  output(): string;
  /** Resident set size of the live process in KiB (from /proc), undefined when not running. */
  rssKiB(): number | undefined;
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts it again (same port, same environment) and waits until it is ready. */
  restart(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

interface Spec {
  readonly name: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly port?: number;
  /** Ready when this HTTP path answers 200 (with `port`), or when a line of output matches `readyLine`. */
  readonly readyPath?: string;
  readonly readyLine?: RegExp;
  readonly timeoutMs?: number;
}

const answers200 = async (url: string): Promise<boolean> => {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
};

const rssOf = (pid: number): number | undefined => {
  const status = spawnSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' }).stdout;
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]);
};

export const startManaged = async (spec: Spec): Promise<ManagedProcess> => {
  let child: ChildProcess | undefined;
  let out = '';
  let exited: Promise<void> = Promise.resolve();
  const url = spec.port === undefined ? undefined : `http://127.0.0.1:${spec.port}`;
  const alive = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;

  const launch = async (): Promise<void> => {
    const env = { ...baseEnv(), ...spec.env, ...(spec.port === undefined ? {} : { PORT: String(spec.port), HOST: '127.0.0.1' }) };
    const started = spawn(process.execPath, [...spec.args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    let lineSeen = false;
    const onData = (chunk: string): void => {
      out = (out + chunk).slice(-TAIL);
      if (spec.readyLine?.test(chunk) === true) lineSeen = true;
    };
    started.stdout?.setEncoding('utf8').on('data', onData);
    started.stderr?.setEncoding('utf8').on('data', onData);
    exited = new Promise<void>((resolve) => started.once('exit', () => resolve()));
    const deadline = Date.now() + (spec.timeoutMs ?? 60_000);
    for (;;) {
      if (!alive()) throw new Error(`${spec.name} exited (${started.exitCode ?? started.signalCode}) before it was ready\n${out}`);
      if (spec.readyLine !== undefined ? lineSeen : url !== undefined && (await answers200(`${url}${spec.readyPath ?? '/health'}`))) return;
      if (Date.now() > deadline) {
        started.kill('SIGKILL');
        throw new Error(`${spec.name} was not ready within ${spec.timeoutMs ?? 60_000} ms\n${out}`);
      }
      await sleep(100);
    }
  };

  await launch();
  return {
    name: spec.name,
    url,
    pid: () => (alive() ? child?.pid : undefined),
    running: alive,
    output: () => out,
    rssKiB: () => {
      const pid = alive() ? child?.pid : undefined;
      return pid === undefined ? undefined : rssOf(pid);
    },
    kill: async (signal) => {
      if (!alive()) return;
      child?.kill(signal);
      await exited;
    },
    restart: async () => {
      if (alive()) throw new Error(`${spec.name} is still running`);
      out += `\n--- ${spec.name} restarted ---\n`;
      await launch();
    },
    stop: async (graceMs = 10_000) => {
      if (!alive()) return;
      child?.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
};

export interface ClusterSettings {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly redisKeyPrefix: string;
  readonly jwtSecret: string;
  readonly apis: number;
  readonly projectors: number;
  readonly reservationTtlSeconds: number;
  readonly paymentLatencyMs: number;
  readonly paymentFailureRate: number;
  /** Extra environment of every Keel process (limits raised for one host sending everything). */
  readonly keelEnv: Readonly<Record<string, string>>;
}

export interface Cluster {
  readonly provider: ManagedProcess;
  readonly apis: readonly ManagedProcess[];
  readonly projectors: readonly ManagedProcess[];
  stop(): Promise<void>;
}

/** Extra node flags of every Keel process (KEEL_FLASH_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). */
const nodeArgs = (): string[] => (process.env.KEEL_FLASH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
const keel = (role: 'api' | 'projector'): readonly string[] => [...nodeArgs(), 'bin/keel.js', 'serve', '--role', role];

export const startCluster = async (settings: ClusterSettings): Promise<Cluster> => {
  const started: ManagedProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.reverse().map((p) => p.stop(5_000)));
  };
  try {
    const provider = await startManaged({
      name: 'payment provider (fake)',
      args: ['--import', 'tsx', 'bench/flash-sale/fake-provider.ts'],
      env: { PAYMENT_FAKE_LATENCY_MS: String(settings.paymentLatencyMs), PAYMENT_FAKE_FAILURE_RATE: String(settings.paymentFailureRate) },
      port: await freePort(),
      readyLine: /"url"/,
    });
    started.push(provider);
    const common = {
      ...settings.keelEnv,
      DATABASE_URL: settings.databaseUrl,
      REDIS_URL: settings.redisUrl,
      REDIS_KEY_PREFIX: settings.redisKeyPrefix,
      JWT_SECRET: settings.jwtSecret,
    };
    const projectors: ManagedProcess[] = [];
    for (let n = 1; n <= settings.projectors; n++) {
      const projector = await startManaged({
        name: `projector ${n}`,
        args: keel('projector'),
        env: {
          ...common,
          LOG_LEVEL: 'info',
          // Its /health, /ready and /metrics: a port of its own, kept across restarts.
          PROJECTOR_PORT: String(await freePort()),
          PAYMENT_PROVIDER_URL: provider.url ?? '',
          RESERVATION_TTL_SECONDS: String(settings.reservationTtlSeconds),
        },
        readyLine: /process manager running/,
      });
      projectors.push(projector);
      started.push(projector);
    }
    const apis: ManagedProcess[] = [];
    for (let n = 1; n <= settings.apis; n++) {
      const api = await startManaged({ name: `api ${n}`, args: keel('api'), env: { ...common, LOG_LEVEL: 'warn' }, port: await freePort(), readyPath: '/health' });
      apis.push(api);
      started.push(api);
    }
    return { provider, apis, projectors, stop };
  } catch (error) {
    await stop();
    throw error;
  }
};

/** Redis, stopped without saving and started again on its port (the machine's, as `npm test` starts it). */
export const stopRedis = (redisUrl: string): void => {
  const port = new URL(redisUrl).port || '6379';
  spawnSync('redis-cli', ['-p', port, 'shutdown', 'nosave'], { stdio: 'ignore' });
};

export const startRedis = async (redisUrl: string): Promise<void> => {
  const port = new URL(redisUrl).port || '6379';
  const result = spawnSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', port, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`redis-server did not start (exit ${result.status})`);
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', port, 'ping'], { encoding: 'utf8' }).stdout.startsWith('PONG')) return;
    await sleep(100);
  }
  throw new Error('redis-server did not answer PING within 10 s');
};

/**
 * PostgreSQL restarted: a fast shutdown (every session is disconnected, in-flight transactions
 * roll back), then a start. The machine's cluster, as `npm test` starts it (pg_ctlcluster).
 */
export const restartPostgres = async (databaseUrl: string): Promise<void> => {
  const version = spawnSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8' }).stdout.trim().split(/\s+/);
  const [major, cluster] = version;
  if (major === undefined || cluster === undefined) throw new Error('pg_lsclusters found no cluster: the PostgreSQL restart fault needs a local pg_ctlcluster cluster');
  const stop = spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', major, cluster, 'stop', '-m', 'fast'], { encoding: 'utf8' });
  if (stop.status !== 0) throw new Error(`pg_ctlcluster stop failed: ${stop.stderr}`);
  const start = spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', major, cluster, 'start'], { encoding: 'utf8' });
  if (start.status !== 0) throw new Error(`pg_ctlcluster start failed: ${start.stderr}`);
  for (let i = 0; i < 100; i++) {
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch {
      await sleep(100);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  throw new Error('PostgreSQL did not accept connections within 10 s of its restart');
};
