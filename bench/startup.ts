/**
 * startup: what the production build buys. `keel serve --role api` started again and again on
 * PostgreSQL and Redis, two ways, alternating: compiled (`node dist/cli/main.js serve --role api`,
 * after `npm run build`) and from the sources through tsx (`node --import tsx src/cli/main.ts serve
 * --role api`: what `npm start` runs, without npm's and tsx's own launcher processes). Per start:
 * the time from spawn to the first 200 from GET /health, the resident memory (VmRSS of
 * /proc/<pid>/status, plus that of its child processes: tsx keeps esbuild's service running) then
 * and after 1,000 GraphQL reads, and the Node process's peak (VmHWM). One warm-up start each way
 * first (not counted: disk cache, tsx's transform cache). Medians, with tsx / compiled.
 *
 * The database is seeded once by a whole Keel (`serve`, every role): 20 products listed through
 * the API and projected, so the reads are real: `product(id)` (the Redis cache) and `products`
 * (the catalog table in PostgreSQL), alternating, 8 at a time.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { signToken } from '../src/api/tokens.js';
import { fieldOf, postGraphql } from './api/graphql-client.js';
import { benchDatabaseUrl, benchRedisUrl, freePort } from './api/processes.js';
import { seedThroughApi } from './api/seed.js';
import { itemsOf, round, runWorkers } from './load.js';
import type { WorkloadResult } from './load.js';
import type { Workload } from './workloads/workload.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DATABASE = 'keel_bench_startup';
const RUNS = Number(process.env.KEEL_BENCH_STARTUP_RUNS ?? 5);
const QUERIES = 1_000;
const QUERY_CONCURRENCY = 8;
const PRODUCTS = 20;
/** How often the bench asks /health while a server starts: the time's resolution. */
const POLL_MS = 5;
const JWT_SECRET = `bench-${randomBytes(24).toString('hex')}`;
const SERVER_ENV = {
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  JWT_SECRET,
  // The reads of one client must not meet the rate limit, nor a busy machine the load shedding.
  RATE_LIMIT_MAX: '1000000',
  RATE_LIMIT_WINDOW_MS: '10000',
  OVERLOAD_MAX_IN_FLIGHT: '0',
  OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0',
  OVERLOAD_MAX_EVENT_LOOP_UTILIZATION: '0',
  PAYMENT_FAKE_LATENCY_MS: '0',
  PAYMENT_FAKE_FAILURE_RATE: '0',
  CONSISTENCY_WAIT_MS: '30000',
};

type Way = 'compiled' | 'tsx';
const WAYS: readonly Way[] = ['compiled', 'tsx'];
const COMMAND: Record<Way, readonly string[]> = {
  compiled: ['dist/cli/main.js', 'serve', '--role', 'api'],
  tsx: ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--role', 'api'],
};
const SHOWN: Record<Way, string> = {
  compiled: 'node dist/cli/main.js serve --role api',
  tsx: 'node --import tsx src/cli/main.ts serve --role api',
};

const PRODUCT_QUERY = 'query ($id: ID!) { product(id: $id) { id name price currency } }';
const PRODUCTS_QUERY = '{ products(first: 20) { edges { node { id sku name price } } } }';

const childEnv = (extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'EVENTSTORE_URL', 'PORT', 'HOST', 'KEEL_DATA_DIR', 'NODE_OPTIONS', 'LOG_LEVEL']) delete env[name];
  return { ...env, ...SERVER_ENV, ...extra };
};

/** A /proc/<pid>/status field in KiB (VmRSS: resident now; VmHWM: the peak). */
const memoryKiB = (pid: number, field: 'VmRSS' | 'VmHWM'): number => {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match?.[1]) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
};

/** The process's children, and theirs (tsx keeps esbuild's service running as a child process). */
const descendants = (pid: number): number[] => {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter((id) => id !== '').map(Number),
  );
  return children.flatMap((child) => [child, ...descendants(child)]);
};

/** VmRSS of the process plus its descendants', and how many descendants there are. */
const treeRssKiB = (pid: number): { readonly kib: number; readonly children: number } => {
  const children = descendants(pid);
  return { kib: [pid, ...children].reduce((sum, id) => sum + memoryKiB(id, 'VmRSS'), 0), children: children.length };
};

interface Server {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  /** Spawn to the first 200 from /health, ms. */
  readonly msTo200: number;
  stop(): Promise<void>;
}

const start = async (args: readonly string[], env: NodeJS.ProcessEnv, port: number): Promise<Server> => {
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-20_000)));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = started + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before answering\n${output}`);
    const status = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) break;
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`${args.join(' ')}: no 200 from /health within 60 s (last status ${status})\n${output}`);
    }
    await sleep(POLL_MS);
  }
  const msTo200 = performance.now() - started;
  if (child.pid === undefined) throw new Error('the server has no pid');
  return { child, pid: child.pid, url, msTo200, stop };
};

interface StartupRun {
  readonly way: Way;
  readonly msTo200: number;
  /** The server process and its children (tsx: esbuild's service). */
  readonly rssAfterStartKiB: number;
  readonly rssAfterQueriesKiB: number;
  /** The Node process alone. */
  readonly nodeRssAfterQueriesKiB: number;
  readonly peakRssKiB: number;
  readonly childProcesses: number;
  readonly queriesMs: number;
  readonly loadAverage1m: number;
}

/** `QUERIES` reads, QUERY_CONCURRENCY at a time; every answer checked. */
const read = async (url: string, productIds: readonly string[]): Promise<number> => {
  const started = performance.now();
  await runWorkers(QUERY_CONCURRENCY, async (worker) => {
    for (const n of itemsOf(worker, QUERY_CONCURRENCY, QUERIES)) {
      if (n % 2 === 0) fieldOf(await postGraphql(url, PRODUCT_QUERY, { id: productIds[(n / 2) % productIds.length] }), 'product');
      else if (!Array.isArray(fieldOf(await postGraphql(url, PRODUCTS_QUERY), 'products').edges)) throw new Error('products: no edges');
    }
  });
  return performance.now() - started;
};

const runOnce = async (way: Way, env: NodeJS.ProcessEnv, productIds: readonly string[]): Promise<StartupRun> => {
  const loadAverage1m = round(loadavg()[0] ?? 0);
  const server = await start(COMMAND[way], env, await freePort());
  try {
    const atStart = treeRssKiB(server.pid);
    const queriesMs = await read(server.url, productIds);
    const afterQueries = treeRssKiB(server.pid);
    return {
      way,
      msTo200: round(server.msTo200),
      rssAfterStartKiB: atStart.kib,
      rssAfterQueriesKiB: afterQueries.kib,
      nodeRssAfterQueriesKiB: memoryKiB(server.pid, 'VmRSS'),
      peakRssKiB: memoryKiB(server.pid, 'VmHWM'),
      childProcesses: afterQueries.children,
      queriesMs: round(queriesMs),
      loadAverage1m,
    };
  } finally {
    await server.stop();
  }
};

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

const mib = (kib: number): number => round(kib / 1024, 1);

interface Summary {
  readonly msTo200: number;
  readonly rssAfterStartMiB: number;
  readonly rssAfterQueriesMiB: number;
  readonly nodeRssAfterQueriesMiB: number;
  readonly peakRssMiB: number;
  readonly queriesMs: number;
}

const summarize = (runs: readonly StartupRun[]): Summary => ({
  msTo200: round(median(runs.map((r) => r.msTo200)), 1),
  rssAfterStartMiB: mib(median(runs.map((r) => r.rssAfterStartKiB))),
  rssAfterQueriesMiB: mib(median(runs.map((r) => r.rssAfterQueriesKiB))),
  nodeRssAfterQueriesMiB: mib(median(runs.map((r) => r.nodeRssAfterQueriesKiB))),
  peakRssMiB: mib(median(runs.map((r) => r.peakRssKiB))),
  queriesMs: round(median(runs.map((r) => r.queriesMs)), 1),
});

/** The comparison as a Markdown table (printed, and kept in the JSON). */
const comparison = (compiled: Summary, tsx: Summary, runs: Record<Way, readonly StartupRun[]>): string => {
  const range = (way: Way, pick: (r: StartupRun) => number, unit: (v: number) => string): string => {
    const values = runs[way].map(pick);
    return `${unit(Math.min(...values))}–${unit(Math.max(...values))}`;
  };
  const ms = (v: number): string => Math.round(v).toLocaleString('en-US');
  const lines: Array<[string, string, string, number, number]> = [
    ['time to the first 200 from /health, ms', `${ms(compiled.msTo200)} (${range('compiled', (r) => r.msTo200, ms)})`, `${ms(tsx.msTo200)} (${range('tsx', (r) => r.msTo200, ms)})`, tsx.msTo200, compiled.msTo200],
    ['RSS at that 200 (with child processes), MiB', String(compiled.rssAfterStartMiB), String(tsx.rssAfterStartMiB), tsx.rssAfterStartMiB, compiled.rssAfterStartMiB],
    [`RSS after ${QUERIES.toLocaleString('en-US')} GraphQL reads (with child processes), MiB`, String(compiled.rssAfterQueriesMiB), String(tsx.rssAfterQueriesMiB), tsx.rssAfterQueriesMiB, compiled.rssAfterQueriesMiB],
    ['of which the Node process, MiB', String(compiled.nodeRssAfterQueriesMiB), String(tsx.nodeRssAfterQueriesMiB), tsx.nodeRssAfterQueriesMiB, compiled.nodeRssAfterQueriesMiB],
    ['peak RSS of the Node process (VmHWM), MiB', String(compiled.peakRssMiB), String(tsx.peakRssMiB), tsx.peakRssMiB, compiled.peakRssMiB],
    [`${QUERIES.toLocaleString('en-US')} reads, ${QUERY_CONCURRENCY} at a time, ms`, ms(compiled.queriesMs), ms(tsx.queriesMs), tsx.queriesMs, compiled.queriesMs],
  ];
  return [
    `| median of ${RUNS} starts each | compiled (dist/) | tsx (src/) | tsx / compiled |`,
    '|---|---|---|---|',
    ...lines.map(([what, a, b, x, y]) => `| ${what} | ${a} | ${b} | ${round(x / y, 2)} |`),
  ].join('\n');
};

const resultRow = (way: Way, summary: Summary, runs: readonly StartupRun[], ratio: string): WorkloadResult => ({
  workload: `startup ${way}`,
  ops: runs.length,
  rate: round(1000 / summary.msTo200, 2),
  rateUnit: 'ops/s',
  seconds: round(runs.reduce((sum, r) => sum + r.msTo200, 0) / 1000, 2),
  latencyMs: { p50: summary.msTo200, p99: Math.max(...runs.map((r) => r.msTo200)), max: Math.max(...runs.map((r) => r.msTo200)) },
  eventsAppended: 0,
  notes:
    `${SHOWN[way]}: spawn to the first 200 from /health, median ${summary.msTo200} ms (p99 = the max of ${runs.length}); ` +
    `RSS ${summary.rssAfterStartMiB} MiB at it, ${summary.rssAfterQueriesMiB} MiB after ${QUERIES} reads (child processes: ${Math.max(...runs.map((r) => r.childProcesses))}), ` +
    `peak of the Node process ${summary.peakRssMiB} MiB${ratio}`,
  details: { command: SHOWN[way], summary, runs },
});

/** Deletes the keys under `prefix` (SCAN, bounded), so runs do not pile up in the shared Redis. */
const dropPrefix = async (prefix: string): Promise<void> => {
  const redis = new Redis(benchRedisUrl('startup'), { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    for (let round = 0; round < 1_000; round++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
};

/** `npm run build` (into dist/), so the compiled runs run today's sources. */
const build = async (): Promise<number> => {
  const started = performance.now();
  const child = spawn(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`npm run build failed\n${stderr}`);
  return performance.now() - started;
};

export const startupWorkload: Workload = {
  id: 'startup',
  title: 'keel serve --role api: time to the first 200 from /health and memory, compiled (dist/) against tsx (src/)',
  settings: {
    runs: RUNS,
    warmupRunsPerWay: 1,
    order: 'alternating, compiled first',
    commands: SHOWN,
    server: { ...SERVER_ENV, JWT_SECRET: '(random per run)' },
    pollMs: POLL_MS,
    reads: { count: QUERIES, concurrency: QUERY_CONCURRENCY, queries: [PRODUCT_QUERY, PRODUCTS_QUERY], products: PRODUCTS },
    memory: '/proc/<pid>/status VmRSS of the process and its descendants (at the first 200, after the reads), and VmHWM of the process',
  },
  async run({ openFresh }) {
    const builtMs = await build();
    // Dropped, recreated and migrated (the event store's schema); the servers migrate the rest.
    await (await openFresh(DATABASE)).close();
    const prefix = `keel-bench:startup:${randomBytes(4).toString('hex')}:`;
    const env = childEnv({ DATABASE_URL: benchDatabaseUrl(DATABASE, 'startup'), REDIS_URL: benchRedisUrl('startup'), REDIS_KEY_PREFIX: prefix });
    try {
      // A whole Keel (API and projector) seeds the catalog and runs every migration, once.
      const seeder = await start(['dist/cli/main.js', 'serve'], env, await freePort());
      let productIds: readonly string[];
      try {
        const admin = signToken({ subject: 'bench-admin', roles: ['admin'], secret: JWT_SECRET, expiresInSeconds: 3_600 });
        const seeded = await seedThroughApi(seeder.url, { products: PRODUCTS, orders: 0, customers: 1, stockPerSku: 100 }, {
          admin,
          customer: (c) => signToken({ subject: c, roles: ['customer'], secret: JWT_SECRET, expiresInSeconds: 3_600 }),
        });
        productIds = seeded.productIds;
      } finally {
        await seeder.stop();
      }
      const runs: Record<Way, StartupRun[]> = { compiled: [], tsx: [] };
      for (const way of WAYS) await runOnce(way, env, productIds);
      for (let i = 0; i < RUNS; i++) {
        for (const way of WAYS) {
          const run = await runOnce(way, env, productIds);
          runs[way].push(run);
          process.stdout.write(`\n  ${way} #${i + 1}: ${Math.round(run.msTo200)} ms to 200, RSS ${mib(run.rssAfterStartKiB)} → ${mib(run.rssAfterQueriesKiB)} MiB`);
        }
      }
      const compiled = summarize(runs.compiled);
      const tsx = summarize(runs.tsx);
      const table = comparison(compiled, tsx, runs);
      process.stdout.write(`\n\n${table}\n(npm run build took ${round(builtMs / 1000, 1)} s)\n`);
      const ratio = `; tsx / compiled: ${round(tsx.msTo200 / compiled.msTo200, 2)}× the time, ${round(tsx.rssAfterStartMiB / compiled.rssAfterStartMiB, 2)}× the RSS at start`;
      const compiledRow = resultRow('compiled', compiled, runs.compiled, `; npm run build ${round(builtMs / 1000, 1)} s`);
      return [{ ...compiledRow, details: { ...compiledRow.details, buildMs: round(builtMs), table } }, resultRow('tsx', tsx, runs.tsx, ratio)];
    } finally {
      await dropPrefix(prefix).catch(() => undefined);
    }
  },
};
