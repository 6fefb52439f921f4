/**
 * `npm run bench:flash-sale`: the flash sale end to end through the real API, with and without
 * faults. For each run: a fresh database, the processes of ./cluster.ts, a product and its units
 * seeded through the API, the buyers (./buyers.ts, a process of its own) at the opening, the run's
 * faults (./faults.ts) meanwhile; then the invariants (./invariants.ts) from the log, a table, JSON
 * and a PNG chart (./report.ts). Exits 1 when any invariant fails.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { signToken } from '../../src/api/tokens.js';
import { openEventStore } from '../../src/eventstore/open.js';
import { openDatabase } from '../../src/platform/database.js';
import { freshPostgresDatabase } from '../setup.js';
import { startCluster } from './cluster.js';
import type { Cluster } from './cluster.js';
import { graphqlClient } from './client.js';
import type { FaultMark, RunName } from './faults.js';
import { injectFaults, planOf } from './faults.js';
import { checkInvariants, factsOfLog } from './invariants.js';
import type { Check, LogFacts } from './invariants.js';
import { overloadChecks, P99_LIMIT_MS } from './overload.js';
import { parseFlashOptions } from './options.js';
import type { FlashOptions } from './options.js';
import type { BuyerRecord, BuyersResult, BuyersSettings, RampResult, RampSettings } from './protocol.js';
import { printRun, writeOverloadFiles, writeRunFiles } from './report.js';
import type { RunReport } from './report.js';
import { summarize } from './summary.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DATABASE = 'keel_bench_flash';
const SKU = 'FLASH-SALE-1';
const PRODUCT = 'flash-sale-product';
const PRICE = 2_500;
const CURRENCY = 'EUR';
const log = (line: string): void => void process.stderr.write(`  ${line}\n`);

const admin = (secret: string): string => signToken({ subject: 'flash-admin', roles: ['admin'], secret, expiresInSeconds: 3_600 });

/** Lists the product and receives its units through the API; waits until the read side shows them. */
const seed = async (url: string, token: string, units: number): Promise<void> => {
  const client = graphqlClient(url, 1);
  try {
    const call = async (query: string, variables: Readonly<Record<string, unknown>>): Promise<Readonly<Record<string, unknown>>> => {
      const answer = await client.post(query, variables, token);
      if (answer.kind !== 'data') throw new Error(`seeding: ${answer.code} ${answer.message}`);
      return answer.data;
    };
    await call('mutation ($i: ListProductInput!) { listProduct(input: $i) { position } }', { i: { productId: PRODUCT, sku: SKU, name: 'Flash sale: the last hundred', price: PRICE, currency: CURRENCY } });
    const received = await call('mutation ($i: ReceiveStockInput!) { receiveStock(input: $i) { consistencyToken } }', { i: { sku: SKU, quantity: units } });
    const consistencyToken = (received.receiveStock as { consistencyToken: string }).consistencyToken;
    await call('query ($s: String!, $t: String) { availability(sku: $s, consistencyToken: $t) { available } }', { s: SKU, t: consistencyToken });
    await call('query ($t: String) { flashSaleBoard(consistencyToken: $t) { sku } }', { t: consistencyToken });
  } finally {
    await client.close();
  }
};

interface LagReading {
  readonly at: number;
  readonly maxLagSeconds: number;
  readonly maxLagEvents: number;
}

/** The projections' largest lag, through the first API process that answers. */
const readLag = async (cluster: Cluster, token: string): Promise<LagReading | undefined> => {
  for (const api of cluster.apis) {
    if (!api.running() || api.url === undefined) continue;
    const client = graphqlClient(api.url, 1);
    try {
      const answer = await client.post('{ projectionStatus { name lagSeconds lagEvents state } }', {}, token, 5_000);
      if (answer.kind !== 'data' || !Array.isArray(answer.data.projectionStatus)) continue;
      const rows = answer.data.projectionStatus as Array<{ lagSeconds: number; lagEvents: number }>;
      return { at: Date.now(), maxLagSeconds: Math.max(0, ...rows.map((r) => r.lagSeconds)), maxLagEvents: Math.max(0, ...rows.map((r) => r.lagEvents)) };
    } finally {
      await client.close();
    }
  }
  return undefined;
};

/** Orders still pending in the orders read model (the log decides; this only says when to look). */
const pendingOrders = async (databaseUrl: string): Promise<number> => {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM rm_orders.orders WHERE status = 'pending'`);
    return Number(rows[0]?.n ?? 0);
  } catch {
    return -1;
  } finally {
    await client.end().catch(() => undefined);
  }
};

const charges = async (cluster: Cluster): Promise<string[]> => {
  const response = await fetch(`${cluster.provider.url ?? ''}/charges`);
  const body: unknown = await response.json();
  const list = Array.isArray(body) ? body : typeof body === 'object' && body !== null && 'charges' in body && Array.isArray(body.charges) ? body.charges : undefined;
  if (list === undefined) throw new Error(`GET /charges answered ${JSON.stringify(body).slice(0, 200)}`);
  return list.map(String);
};

interface Session {
  readonly cluster: Cluster;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly redisKeyPrefix: string;
  readonly jwtSecret: string;
  readonly token: string;
  readonly peakRssKiB: () => Record<string, number>;
}

/** A fresh database and Redis prefix, the cluster, the product seeded; stopped whatever happens. */
const withCluster = async <T>(label: string, outDir: string, options: FlashOptions, projectors: number, units: number, work: (session: Session) => Promise<T>): Promise<T> => {
  const adminUrl = process.env.KEEL_TEST_DATABASE_URL;
  const redisUrl = process.env.KEEL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (adminUrl === undefined) throw new Error('KEEL_TEST_DATABASE_URL is not set: run it as `npm run bench:flash-sale` (it finds or starts PostgreSQL and Redis).');
  const databaseUrl = await freshPostgresDatabase(adminUrl, DATABASE);
  const jwtSecret = randomBytes(32).toString('hex');
  const redisKeyPrefix = `keel-flash:${randomBytes(4).toString('hex')}:`;
  const cluster = await startCluster({
    databaseUrl,
    redisUrl,
    redisKeyPrefix,
    jwtSecret,
    apis: options.apis,
    projectors,
    reservationTtlSeconds: options.reservationTtlSeconds,
    paymentLatencyMs: options.paymentLatencyMs,
    paymentFailureRate: options.paymentFailureRate,
    keelEnv: options.keelEnv,
  });
  const memory = new Map<string, number>();
  const sampler = setInterval(() => {
    for (const p of [...cluster.apis, ...cluster.projectors]) memory.set(p.name, Math.max(memory.get(p.name) ?? 0, p.rssKiB() ?? 0));
  }, 500);
  try {
    const token = admin(jwtSecret);
    const firstApi = cluster.apis[0]?.url;
    if (firstApi === undefined) throw new Error('no API process');
    await seed(firstApi, token, units);
    return await work({ cluster, databaseUrl, redisUrl, redisKeyPrefix, jwtSecret, token, peakRssKiB: () => Object.fromEntries(memory) });
  } finally {
    clearInterval(sampler);
    await cluster.stop();
    // Each process's output (its log's tail) beside the results, for whoever reads a FAIL.
    for (const p of [cluster.provider, ...cluster.apis, ...cluster.projectors]) {
      await writeFile(join(outDir, `${label}.${p.name.replace(/[^a-z0-9]+/gi, '-')}.log`), p.output());
    }
  }
};

interface Settled {
  readonly facts: LogFacts;
  readonly checks: Check[];
  readonly lagAtEnd: { readonly seconds: number | null; readonly events: number | null; readonly underOneSecondAfterMs: number | null };
}

/**
 * Waits until the projections caught up and no order is pending (or the bound passed), then reads
 * the log and checks the invariants against it.
 */
const settleAndCheck = async (session: Session, options: FlashOptions, units: number, records: readonly BuyerRecord[], openingAt: number, boundSeconds = options.outcomeBoundSeconds): Promise<Settled> => {
  const answeredAt = Date.now();
  const boundMs = boundSeconds * 1_000;
  let lag: LagReading | undefined;
  let underOneSecondAfterMs: number | null = null;
  for (;;) {
    lag = await readLag(session.cluster, session.token);
    if (lag !== undefined && lag.maxLagSeconds < 1 && underOneSecondAfterMs === null) underOneSecondAfterMs = lag.at - answeredAt;
    if (underOneSecondAfterMs !== null && lag?.maxLagEvents === 0 && (await pendingOrders(session.databaseUrl)) === 0) break;
    if (Date.now() - answeredAt > boundMs) break;
    await sleep(250);
  }
  const handle = await openDatabase({ databaseUrl: session.databaseUrl, dataDir: '', poolSize: 2 });
  const store = await openEventStore(handle);
  try {
    const facts = await factsOfLog(store.readAll(), SKU, units);
    const acceptedAts = records.flatMap((r) => (r.acceptedAt === undefined ? [] : [r.acceptedAt]));
    const checks = await checkInvariants({
      facts,
      records,
      units,
      sku: SKU,
      saleEndedAt: openingAt + Math.max(0, ...acceptedAts),
      outcomeBoundMs: boundMs,
      db: handle.db,
      redisUrl: session.redisUrl,
      redisKeyPrefix: session.redisKeyPrefix,
      charges: await charges(session.cluster),
      lagAfterSale: { underOneSecondAfterMs, lagSeconds: lag?.maxLagSeconds ?? Number.NaN },
    });
    return { facts, checks, lagAtEnd: { seconds: lag?.maxLagSeconds ?? null, events: lag?.maxLagEvents ?? null, underOneSecondAfterMs } };
  } finally {
    await store.close();
    await handle.close();
  }
};

const runSale = async (name: RunName, options: FlashOptions, outDir: string): Promise<RunReport> => {
  const plan = planOf(name);
  process.stderr.write(`\nrun ${name}: ${plan.title} (${options.buyers.toLocaleString('en-US')} buyers, ${options.units} units, ${options.apis} API processes, ${plan.projectors} projector${plan.projectors > 1 ? 's' : ''})\n`);
  return withCluster(name, outDir, options, plan.projectors, options.units, async (session) => {
    const openingAt = Date.now() + 1_500;
    const resultFile = join(outDir, `${name}.buyers.json`);
    const settings: BuyersSettings = {
      apis: session.cluster.apis.map((a) => a.url ?? ''),
      jwtSecret: session.jwtSecret,
      customerPrefix: `buyer-${name}-`,
      buyers: options.buyers,
      units: options.units,
      sku: SKU,
      price: PRICE,
      currency: CURRENCY,
      openingAt,
      connectionsPerApi: options.connectionsPerApi,
      subscribePercent: options.subscribePercent,
      duplicatePercent: plan.duplicatePercent,
      giveUpPercent: plan.giveUpPercent,
      giveUpCancelAfterMs: 500,
      pollIntervalMs: options.pollIntervalMs,
      checkoutAttempts: 8,
      giveUpAfterMs: options.waitSeconds * 1_000,
      resultFile,
    };
    const faults: Promise<FaultMark[]> = injectFaults(plan, {
      cluster: session.cluster,
      databaseUrl: session.databaseUrl,
      redisUrl: session.redisUrl,
      openingAt,
      payment: { latencyMs: options.paymentLatencyMs, failureRate: options.paymentFailureRate },
      log,
    });
    await runChild('bench/flash-sale/buyers.ts', settings, join(outDir, `${name}.settings.json`));
    const marks = await faults;
    const result = JSON.parse(await readFile(resultFile, 'utf8')) as BuyersResult;
    const settled = await settleAndCheck(session, options, options.units, result.records, result.openingAt);
    const report: RunReport = {
      name,
      title: plan.title,
      settings: { ...settings, jwtSecret: '(random)', resultFile: undefined },
      summary: summarize(result, settled.facts),
      lagAtEnd: settled.lagAtEnd,
      peakRssKiB: session.peakRssKiB(),
      faults: marks,
      checks: settled.checks,
      events: settled.facts.events,
    };
    printRun(report);
    await writeRunFiles(report, result, outDir);
    return report;
  });
};

/** Units of the product in the overload run: enough that no checkout there is refused for stock. */
const OVERLOAD_UNITS = 1_000_000;
const OVERLOAD_OUTCOME_BOUND_SECONDS = 600;

const runOverload = async (options: FlashOptions, outDir: string): Promise<RunReport> => {
  process.stderr.write(`\nrun overload: a ramp of checkout rates to the knee, then twice the knee, then half the sustainable rate\n`);
  return withCluster('overload', outDir, options, 1, OVERLOAD_UNITS, async (session) => {
    const resultFile = join(outDir, 'overload.ramp.json');
    const settings: RampSettings = {
      apis: session.cluster.apis.map((a) => a.url ?? ''),
      jwtSecret: session.jwtSecret,
      customerPrefix: 'ramp-buyer-',
      sku: SKU,
      price: PRICE,
      currency: CURRENCY,
      connectionsPerApi: options.connectionsPerApi * 4,
      rates: options.rampRates,
      stepSeconds: 5,
      pauseMs: 2_000,
      p99LimitMs: P99_LIMIT_MS,
      overloadSeconds: 10,
      recoverySeconds: 5,
      resultFile,
    };
    const openingAt = Date.now();
    await runChild('bench/flash-sale/ramp.ts', settings, join(outDir, 'overload.settings.json'));
    const result = JSON.parse(await readFile(resultFile, 'utf8')) as RampResult;
    // Every accepted checkout is an order the process manager must see through (reserve, pay,
    // confirm): at twice the knee it accepts them faster than it finishes them, so the backlog's
    // outcomes get a bound of their own, OVERLOAD_OUTCOME_BOUND_SECONDS.
    const settled = await settleAndCheck(session, options, OVERLOAD_UNITS, result.records, openingAt, OVERLOAD_OUTCOME_BOUND_SECONDS);
    const report: RunReport = {
      name: 'overload',
      title: `knee at ${result.kneeRate ?? `more than ${result.sustainableRate}`} checkouts/s, then ${result.overload.rate}/s`,
      settings: { ...settings, jwtSecret: '(random)', resultFile: undefined },
      lagAtEnd: settled.lagAtEnd,
      peakRssKiB: session.peakRssKiB(),
      checks: [...settled.checks, ...overloadChecks(result, session.peakRssKiB())],
      events: settled.facts.events,
      overload: { steps: result.steps, kneeRate: result.kneeRate, sustainableRate: result.sustainableRate, overload: result.overload, recovery: result.recovery },
    };
    printRun(report);
    await writeOverloadFiles(report, result, outDir);
    return report;
  });
};

const runChild = async (script: string, settings: BuyersSettings | RampSettings, settingsFile: string): Promise<void> => {
  await writeFile(settingsFile, JSON.stringify(settings, null, 2));
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=4096', '--import', 'tsx', script, settingsFile], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${script} exited (${code ?? signal})`))));
  });
};

const options = parseFlashOptions(process.argv.slice(2));
// Production runs the build (node dist/…): `keel serve` runs it while it is newer than every source.
process.stderr.write('building dist/ (npm run build) ...\n');
if (spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0) throw new Error('npm run build failed');
const startedAt = new Date();
const outDir = join(ROOT, 'bench', 'results', 'flash-sale', startedAt.toISOString().replace(/[:.]/g, '-'));
await mkdir(outDir, { recursive: true });
const reports: RunReport[] = [];
const runs: ReadonlyArray<readonly [string, () => Promise<RunReport>]> = [
  ...options.runs.map((name) => [name, () => runSale(name, options, outDir)] as const),
  ...(options.overload ? [['overload', () => runOverload(options, outDir)] as const] : []),
];
for (const [name, run] of runs) {
  try {
    reports.push(await run());
  } catch (error) {
    process.stderr.write(`\nrun ${name} could not complete: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    reports.push({ name, title: name, failed: error instanceof Error ? error.message : String(error), checks: [] });
  }
}
const failed = reports.filter((r) => r.failed !== undefined || r.checks.some((c) => !c.pass));
await writeFile(join(outDir, 'summary.json'), JSON.stringify({ startedAt: startedAt.toISOString(), options, reports }, null, 2));
process.stdout.write(`\nresults in ${outDir}\n${failed.length === 0 ? 'PASS: every invariant held in every run' : `FAIL: ${failed.map((r) => r.name).join(', ')}`}\n`);
process.exit(failed.length === 0 ? 0 : 1);
