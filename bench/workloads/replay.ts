/**
 * The replay engine's workloads (src/replay), each on a database of its own, PostgreSQL only:
 * - replay1m: one inventory stream of 1,000,000 events (./hot-stream.ts), replayed with
 *   `replayStream` in a child process each time (./replay-child.ts), so each run's peak RSS is its
 *   own: the first event only (the process's baseline), the first 100,000 events and the whole
 *   stream folded without `onStep`, and the first 100,000 with an `onStep` (per-event state and
 *   diff, what `keel replay` prints).
 * - explain1m: a log of 1,000,000 events whose inventory stream is hot, plus a few orders placed
 *   through the command handler and the order-fulfilment process manager (fake payment provider)
 *   part way down that stream; the `event_index` projection run to the head (the indexing rate);
 *   then `keel explain order <id>` as a whole command (`node bin/keel.js`, a process per run) with
 *   the index current and with the index 10,000 events behind (the tail of `$all` is scanned).
 *
 * KEEL_BENCH_REPLAY_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/keel-prof") is passed to every
 * child process (replays and `keel` commands).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { orderAggregate } from '../../src/commands/aggregates.js';
import { createCommerceCommands } from '../../src/commands/front-door.js';
import type { RequestContext } from '../../src/commands/front-door.js';
import { startFulfilment } from '../../src/commands/fulfilment/index.js';
import { createCommandHandler } from '../../src/commands/handler/index.js';
import { orderStreamId } from '../../src/commands/order/index.js';
import { FakePaymentProvider } from '../../src/commands/payment/index.js';
import type { EventStore } from '../../src/eventstore/port.js';
import { startProjections } from '../../src/projections/engine/index.js';
import { liveSchemaOf } from '../../src/projections/projection.js';
import { createEventIndex, EVENT_INDEX, eventIndexProjection } from '../../src/projections/read-models/index.js';
import { explainOrder } from '../../src/replay/index.js';
import { Latencies, round, timed } from '../load.js';
import type { LatencySummary, WorkloadResult } from '../load.js';
import type { BenchEnvironment } from '../setup.js';
import { HOT_BATCH, seedHotStream } from './hot-stream.js';
import type { Workload } from './workload.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = 'bench/workloads/replay-child.ts';

/** KEEL_BENCH_REPLAY_SCALE (default 1) shrinks every size, for trying the workloads out: 0.01 is 10,000 events. */
const SCALE = Number(process.env.KEEL_BENCH_REPLAY_SCALE ?? '1');
if (!(SCALE > 0 && SCALE <= 1)) throw new Error(`KEEL_BENCH_REPLAY_SCALE must be within (0, 1], got ${process.env.KEEL_BENCH_REPLAY_SCALE}`);
const scaled = (n: number): number => Math.max(1_000, Math.round(n * SCALE));
/** 1000000 → 1M, 100000 → 100k. */
const short = (n: number): string => (n >= 1_000_000 && n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n % 1_000 === 0 ? `${n / 1_000}k` : String(n));

const REPLAY_EVENTS = scaled(1_000_000);
const REPLAY_PARTIAL = scaled(100_000);
const REPLAY_SKU = 'HOT-REPLAY-1';

const EXPLAIN_EVENTS = scaled(1_000_000);
/** Where in the hot stream the real orders go: after this many seeded events, the rest after them. */
const EXPLAIN_ORDERS_AT = scaled(900_000);
const EXPLAIN_ORDERS = 5;
const EXPLAIN_RUNS = 5;
const EXPLAIN_LAG = scaled(10_000);
const EXPLAIN_SKU = 'HOT-EXPLAIN-1';
const EXPLAIN_PRODUCT = 'hot-explain-product';
const EXPLAIN_PRICE = 1_250;

const quiet = { info: () => {}, warn: () => {}, error: (obj: object, msg?: string) => console.error(msg, obj) };
const MiB = (kib: number): number => round(kib / 1024, 1);

/** The URL of `database` on the server of KEEL_TEST_DATABASE_URL (children connect to it themselves). */
const databaseUrl = (database: string, workload: string): string => {
  const admin = process.env.KEEL_TEST_DATABASE_URL;
  if (!admin) throw new Error(`the ${workload} workload needs PostgreSQL: run \`npm run bench\` (KEEL_TEST_DATABASE_URL), not --embedded`);
  const url = new URL(admin);
  url.pathname = `/${database}`;
  return url.toString();
};

/** The parent's environment without what would point a child elsewhere or change how Node runs. */
const childEnv = (extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'EVENTSTORE_URL', 'KEEL_DATA_DIR', 'NODE_OPTIONS']) delete env[name];
  return { ...env, ...extra };
};

const nodeArgs = (): string[] => (process.env.KEEL_BENCH_REPLAY_NODE_ARGS ?? '').split(/\s+/).filter((a) => a.length > 0);

interface ChildRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit. */
  readonly ms: number;
}

const runNode = (args: readonly string[], env: NodeJS.ProcessEnv): Promise<ChildRun> =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...nodeArgs(), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });

// ---------------------------------------------------------------------------------------------
// replay1m

interface ReplayChildResult {
  readonly events: number;
  readonly steps: number;
  readonly stop: string;
  readonly seconds: number;
  readonly replayCpuSeconds: number;
  readonly maxRssKiB: number;
  readonly rssBeforeKiB: number;
  readonly heapUsedKiB: number;
  readonly userCpuSeconds: number;
  readonly systemCpuSeconds: number;
}

const replayInChild = async (url: string, streamId: string, count: number | 'all', mode: 'fold' | 'diffs'): Promise<ReplayChildResult> => {
  const run = await runNode(['--import', 'tsx', CHILD, url, streamId, String(count), mode], childEnv());
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  if (run.code !== 0 || !line.startsWith('{')) throw new Error(`${CHILD} ${streamId} ${count} ${mode} exited ${run.code}\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(line) as ReplayChildResult;
};

/** The replaying process's CPU per event: steadier than the rate on a shared machine. */
const cpuPerEvent = (r: ReplayChildResult): number => round((r.replayCpuSeconds * 1e6) / r.events, 2);

const replayRow = (workload: string, result: ReplayChildResult, notes: string): WorkloadResult => ({
  workload,
  ops: result.events,
  rate: round(result.events / result.seconds),
  rateUnit: 'events/s',
  seconds: round(result.seconds),
  eventsAppended: 0,
  notes: `${notes}; ${cpuPerEvent(result)} µs CPU per event in the replaying process`,
  details: { ...result, maxRssMiB: MiB(result.maxRssKiB) },
});

const seedRow = (workload: string, events: number, seconds: number, notes: string): WorkloadResult => ({
  workload,
  ops: events,
  rate: round(events / seconds),
  rateUnit: 'events/s',
  seconds: round(seconds),
  eventsAppended: events,
  notes,
  details: {},
});

export const replay1m: Workload = {
  id: 'replay1m',
  title: `replay one inventory stream of ${REPLAY_EVENTS.toLocaleString('en')} events`,
  settings: { scale: SCALE, events: REPLAY_EVENTS, eventsPerAppend: HOT_BATCH, partial: REPLAY_PARTIAL, sku: REPLAY_SKU, child: CHILD, database: 'keel_bench_replay1m' },
  async run({ openFresh }) {
    const database = 'keel_bench_replay1m';
    const url = databaseUrl(database, 'replay1m');
    const env = await openFresh(database);
    let streamId: string;
    let seededSeconds: number;
    try {
      const seeded = await timed(() => seedHotStream(env.store, { sku: REPLAY_SKU, productId: 'hot-replay-product', events: REPLAY_EVENTS }));
      streamId = seeded.value.streamId;
      seededSeconds = seeded.seconds;
    } finally {
      await env.close();
    }
    // One process per replay, one after the other: each peak RSS is that replay's own.
    const baseline = await replayInChild(url, streamId, 1, 'fold');
    const partial = await replayInChild(url, streamId, REPLAY_PARTIAL, 'fold');
    const whole = await replayInChild(url, streamId, 'all', 'fold');
    const diffs = await replayInChild(url, streamId, REPLAY_PARTIAL, 'diffs');
    for (const [result, expected] of [[partial, REPLAY_PARTIAL], [whole, REPLAY_EVENTS], [diffs, REPLAY_PARTIAL]] as const) {
      if (result.events !== expected) throw new Error(`replay folded ${result.events} events, expected ${expected}`);
    }
    const rss = (r: ReplayChildResult): string => `peak RSS ${MiB(r.maxRssKiB)} MiB`;
    return [
      seedRow('replay1m seed', REPLAY_EVENTS, seededSeconds, `one stream, appends of ${HOT_BATCH} chained by expected revision (not the replay)`),
      replayRow(
        `replay1m fold ${short(REPLAY_PARTIAL)}`,
        partial,
        `replayStream toRevision ${REPLAY_PARTIAL - 1}, no onStep, child process; ${rss(partial)} (1 event: ${MiB(baseline.maxRssKiB)} MiB)`,
      ),
      replayRow(`replay1m fold ${short(REPLAY_EVENTS)}`, whole, `whole stream, no onStep, child process; ${rss(whole)} (${short(REPLAY_PARTIAL)}: ${MiB(partial.maxRssKiB)} MiB, 1 event: ${MiB(baseline.maxRssKiB)} MiB)`),
      replayRow(
        `replay1m diffs ${short(REPLAY_PARTIAL)}`,
        diffs,
        `onStep (state + diff per event, dropped): ${round(diffs.seconds / partial.seconds, 2)}x the fold's time, +${round(cpuPerEvent(diffs) - cpuPerEvent(partial), 2)} µs CPU per event; ${rss(diffs)}`,
      ),
    ];
  },
};

// ---------------------------------------------------------------------------------------------
// explain1m

/** Orders placed through the front door, fulfilled by the process manager (fake provider, always authorizes). */
const placeOrders = async (env: BenchEnvironment, count: number): Promise<{ readonly orderIds: string[]; readonly firstMs: number; readonly seconds: number }> => {
  const handler = createCommandHandler(env.store);
  const commerce = createCommerceCommands(handler);
  const provider = new FakePaymentProvider({ latencyMs: 1, failureRate: 0 });
  const fulfilment = await startFulfilment({
    store: env.store,
    db: env.handle.db,
    handler,
    commerce,
    provider,
    logger: quiet,
    clock: () => new Date(),
    reservationTtlMs: 15 * 60_000,
    checkpointIntervalMs: 50,
    sweepIntervalMs: 1_000,
  });
  const orderIds = Array.from({ length: count }, (_, i) => `bench-explain-order-${i}`);
  const started = performance.now();
  let firstMs = 0;
  try {
    for (const [i, orderId] of orderIds.entries()) {
      const request: RequestContext = { actor: `bench-customer-${i}`, now: new Date().toISOString() };
      const lines = [{ sku: EXPLAIN_SKU, quantity: 1 + (i % 3), unitPrice: EXPLAIN_PRICE }];
      // The first command on the hot SKU loads its stream (the handler's cache is cold).
      await commerce.placeOrder({ orderId, customerId: `bench-customer-${i}`, currency: 'EUR', lines }, request);
      if (i === 0) firstMs = performance.now() - started;
    }
    const deadline = Date.now() + 300_000;
    for (const orderId of orderIds) {
      for (;;) {
        const { state } = await handler.load(orderAggregate, orderStreamId(orderId), { fresh: true });
        if (state.status === 'confirmed') break;
        if (state.status === 'cancelled') throw new Error(`order ${orderId} was cancelled: ${state.reason}`);
        if (Date.now() > deadline) throw new Error(`order ${orderId} still ${state.status} after 300 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    // Confirmed first, its stock committed next (same reaction): wait until every reaction is done.
    const head = await env.store.headPosition();
    while (fulfilment.position() < head) {
      if (Date.now() > deadline) throw new Error('the process manager did not reach the head');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await fulfilment.stop();
  }
  return { orderIds, firstMs, seconds: (performance.now() - started) / 1000 };
};

const lastRevisionOf = async (store: EventStore, streamId: string): Promise<bigint> => {
  for await (const event of store.readStream(streamId, { direction: 'backwards', maxCount: 1 })) return event.revision;
  return -1n;
};

const countEvents = async (env: BenchEnvironment): Promise<number> => {
  const { rows } = await sql<{ n: string }>`select count(*)::text as n from keel_events`.execute(env.handle.db);
  return Number(rows[0]?.n ?? 0);
};

interface ExplainRuns {
  readonly latency: LatencySummary;
  readonly runsMs: readonly number[];
  /** The first run (not timed in the summary): the output checked, and tsx's cache warm. */
  readonly warmupMs: number;
  readonly stdoutBytes: number;
  readonly warning: string;
}

/**
 * How `keel` starts: `compiled` is bin/keel.js on the fresh build the workload made (the launcher
 * says so on stderr, checked), `sources` the TypeScript sources through tsx (no build).
 */
type Launch = 'compiled' | 'sources';
const keelArgs = (launch: Launch): string[] => (launch === 'compiled' ? ['bin/keel.js'] : ['--import', 'tsx', 'src/cli/main.ts']);

/** `npm run build`, so that bin/keel.js runs the compiled dist/. */
const build = async (): Promise<number> => {
  const run = await runNode(['scripts/build.mjs'], childEnv());
  if (run.code !== 0) throw new Error(`npm run build failed\n${run.stderr}`);
  return run.ms;
};

/** `keel explain order <id>`, a process per run: one warm-up, then `runs` timed. */
const explainRuns = async (url: string, orderId: string, runs: number, expectLag: boolean, launch: Launch): Promise<ExplainRuns> => {
  const env = childEnv({ DATABASE_URL: url, NO_COLOR: '1', KEEL_LAUNCHER_TRACE: '1' });
  const once = async (): Promise<ChildRun> => {
    const run = await runNode([...keelArgs(launch), 'explain', 'order', orderId], env);
    if (launch === 'compiled' && !run.stderr.includes('keel: running dist/')) throw new Error(`keel did not run the build: ${run.stderr}`);
    if (run.code !== 0) throw new Error(`keel explain order ${orderId} exited ${run.code}\n${run.stderr}`);
    if (!run.stdout.includes('StockReserved') || !run.stdout.includes('StockCommitted')) throw new Error(`keel explain order ${orderId} told no reservation:\n${run.stdout}`);
    if (expectLag !== run.stderr.includes('behind')) throw new Error(`keel explain order ${orderId}: expected ${expectLag ? 'a' : 'no'} lag warning, stderr: ${run.stderr}`);
    return run;
  };
  const warmup = await once();
  const latencies = new Latencies();
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const run = await once();
    latencies.record(run.ms);
    runsMs.push(round(run.ms));
  }
  return { latency: latencies.summary(), runsMs, warmupMs: round(warmup.ms), stdoutBytes: warmup.stdout.length, warning: warmup.stderr.trim() };
};

/** Wall time of `keel --help`: the command's start (imports), no database. */
const startupRuns = async (runs: number, launch: Launch): Promise<LatencySummary> => {
  const latencies = new Latencies();
  await runNode([...keelArgs(launch), '--help'], childEnv());
  for (let i = 0; i < runs; i++) latencies.record((await runNode([...keelArgs(launch), '--help'], childEnv())).ms);
  return latencies.summary();
};

const explainRow = (workload: string, runs: ExplainRuns, notes: string): WorkloadResult => ({
  workload,
  ops: runs.runsMs.length,
  rate: round(1000 / runs.latency.p50, 2),
  rateUnit: 'requests/s',
  seconds: round(runs.runsMs.reduce((a, b) => a + b, 0) / 1000),
  latencyMs: runs.latency,
  eventsAppended: 0,
  notes: `median ${round(runs.latency.p50)} ms, max ${round(runs.latency.max)} ms${runs.latency.p50 < 1000 ? '' : ' (target < 1 s: MISSED)'}; ${notes}`,
  details: { ...runs },
});

export const explain1m: Workload = {
  id: 'explain1m',
  title: `keel explain order on a log of ${EXPLAIN_EVENTS.toLocaleString('en')} events with a hot inventory stream`,
  settings: {
    scale: SCALE,
    events: EXPLAIN_EVENTS,
    eventsPerAppend: HOT_BATCH,
    sku: EXPLAIN_SKU,
    ordersAtRevision: EXPLAIN_ORDERS_AT,
    orders: EXPLAIN_ORDERS,
    runs: EXPLAIN_RUNS,
    lag: EXPLAIN_LAG,
    database: 'keel_bench_explain1m',
  },
  async run({ openFresh }) {
    const database = 'keel_bench_explain1m';
    const url = databaseUrl(database, 'explain1m');
    const env = await openFresh(database);
    const rows: WorkloadResult[] = [];
    try {
      // The product, listed through the front door (SkuTracked, ProductListed) with its stock.
      const setup = createCommerceCommands(createCommandHandler(env.store));
      const request = (): RequestContext => ({ actor: 'bench-admin', now: new Date().toISOString() });
      await setup.listProduct({ productId: EXPLAIN_PRODUCT, sku: EXPLAIN_SKU, name: 'Hot explain product', price: EXPLAIN_PRICE, currency: 'EUR' }, request());
      await setup.receiveStock({ sku: EXPLAIN_SKU, quantity: 1_000_000 }, request());
      const streamId = `inventory-${EXPLAIN_SKU}`;
      const base = { sku: EXPLAIN_SKU, productId: EXPLAIN_PRODUCT };
      const first = await timed(() => seedHotStream(env.store, { ...base, events: EXPLAIN_ORDERS_AT - 3, after: 1n }));
      const placed = await placeOrders(env, EXPLAIN_ORDERS);
      const before = await countEvents(env);
      const rest = await timed(async () =>
        seedHotStream(env.store, { ...base, events: EXPLAIN_EVENTS - before, after: await lastRevisionOf(env.store, streamId), firstOrder: first.value.nextOrder }),
      );
      const seededEvents = first.value.appended + rest.value.appended;
      const inLog = await countEvents(env);
      const target = placed.orderIds[Math.floor(placed.orderIds.length / 2)] ?? '';
      rows.push(
        seedRow(
          'explain1m seed',
          seededEvents,
          first.seconds + rest.seconds,
          `${inLog.toLocaleString('en')} events in the log; ${EXPLAIN_ORDERS} orders through the handler and the process manager at revision ~${EXPLAIN_ORDERS_AT.toLocaleString('en')} in ${round(placed.seconds)} s (the first placeOrder, loading the hot stream: ${round(placed.firstMs / 1000)} s)`,
        ),
      );

      // The event index, from position zero to the head.
      const head = await env.store.headPosition();
      const projections = await startProjections({ handle: env.handle, store: env.store, projections: [eventIndexProjection], logger: quiet });
      let indexed: { readonly seconds: number };
      try {
        indexed = await timed(() => projections.waitFor(EVENT_INDEX, head, { timeoutMs: 1_800_000 }));
      } finally {
        await projections.stop();
      }
      const { rows: refRows } = await sql<{ n: string }>`select count(*)::text as n from ${sql.table(`${liveSchemaOf(EVENT_INDEX)}.event_refs`)}`.execute(env.handle.db);
      rows.push({
        workload: 'explain1m index',
        ops: inLog,
        rate: round(inLog / indexed.seconds),
        rateUnit: 'events/s',
        seconds: round(indexed.seconds),
        eventsAppended: 0,
        notes: `event_index projection from zero to the head (startProjections, waitFor)${refRows[0] ? `; ${Number(refRows[0].n).toLocaleString('en')} refs` : ''}`,
        details: { head, refs: refRows[0]?.n },
      });

      // The same explain in this process (no process start): how much of the command is the query.
      const index = createEventIndex(env.handle.db);
      const inProcess = new Latencies();
      let story: Awaited<ReturnType<typeof explainOrder>> | undefined;
      for (let i = 0; i <= EXPLAIN_RUNS; i++) {
        const started = performance.now();
        story = await explainOrder(env.store, index, target);
        if (i > 0) inProcess.record(performance.now() - started);
      }
      const reserved = story?.events.find((e) => e.type === 'StockReserved' && e.streamId === streamId);
      if (!reserved || story?.verdict.status !== 'confirmed') throw new Error(`explainOrder(${target}) found no reservation in ${streamId}, or the order is not confirmed`);
      const builtMs = await build();
      for (const launch of ['compiled', 'sources'] as const) {
        const startup = await startupRuns(EXPLAIN_RUNS, launch);
        const current = await explainRuns(url, target, EXPLAIN_RUNS, false, launch);
        const how = launch === 'compiled' ? `node bin/keel.js (the build of npm run build, ${round(builtMs / 1000)} s)` : 'node --import tsx src/cli/main.ts (no build)';
        const currentRow = explainRow(
          `explain1m explain (index current, ${launch})`,
          current,
          `${how} explain order ${target}: its reservation at revision ${reserved.revision.toLocaleString('en')} of ${streamId}, ${story.events.length} events in the story; ` +
            `in-process explainOrder median ${round(inProcess.summary().p50)} ms; \`keel --help\` alone median ${round(startup.p50)} ms`,
        );
        rows.push({ ...currentRow, details: { ...currentRow.details, reservationRevision: reserved.revision, storyEvents: story.events.length, inProcessMs: inProcess.summary(), keelHelpMs: startup } });
      }

      // The index stopped; EXPLAIN_LAG more events on the hot stream: explain scans them.
      const lagged = await seedHotStream(env.store, { ...base, events: EXPLAIN_LAG, after: await lastRevisionOf(env.store, streamId), firstOrder: rest.value.nextOrder });
      const lagging = await explainRuns(url, target, EXPLAIN_RUNS, true, 'compiled');
      const laggingRow = explainRow(`explain1m explain (index ${short(EXPLAIN_LAG)} behind, compiled)`, lagging, `the same, ${lagged.appended.toLocaleString('en')} events appended past the index's checkpoint (scanned); stderr: ${lagging.warning}`);
      rows.push({ ...laggingRow, eventsAppended: lagged.appended });
      return rows;
    } finally {
      await env.close();
    }
  },
};
