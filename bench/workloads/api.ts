/**
 * api: Keel's GraphQL API over HTTP, the real server process (src/main.ts, NODE_ENV=production,
 * LOG_LEVEL=warn, rate limiter on and Redis-backed) on a database of its own and the test Redis
 * under a prefix of its own, loaded by autocannon from this process (../api/cannon.ts):
 * - ceiling: a bare fastify + mercurius process whose `product(id)` returns a constant, same query;
 * - { __typename }: Keel's per-request path (helmet, auth, rate limit, mercurius) without a resolver;
 * - product (cached): `product(id)` anonymous, ids in turn over the seeded products, all in the cache;
 * - order (uncached): `order(id)` with lines and timeline as an admin, ids in turn (PostgreSQL each time);
 * - changePrice: mutations as an admin over the seeded products, a distinct idempotency key each.
 * Seeding goes through the API (../api/seed.ts); the ratio product/ceiling is the issue's target (≥ 0.7).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';
import { signToken } from '../../src/api/tokens.js';
import { productTopic } from '../../src/projections/read-models/topics.js';
import { runCannon } from '../api/cannon.js';
import type { CannonRun, CannonSettings, CannonTarget } from '../api/cannon.js';
import { postGraphql } from '../api/graphql-client.js';
import { benchDatabaseUrl, benchRedisUrl, freePort, startServerProcess } from '../api/processes.js';
import type { ServerProcess } from '../api/processes.js';
import { PRICE, seedThroughApi } from '../api/seed.js';
import type { Seeded } from '../api/seed.js';
import { round } from '../load.js';
import type { WorkloadResult } from '../load.js';
import type { Workload } from './workload.js';

const DATABASE = 'keel_bench_api';
const JWT_SECRET = `bench-${randomBytes(24).toString('hex')}`;
const SIZES = { products: 50, orders: 200, customers: 10, stockPerSku: 1_000_000 };
/**
 * 16 connections: enough to keep one server process busy (a connection waits on Redis/PostgreSQL
 * between requests) without queueing far past saturation; autocannon and the server each get one
 * of the machine's 2 cores.
 */
const CANNON: CannonSettings = { connections: 16, durationSeconds: 10, warmupSeconds: 3, timeoutSeconds: 10 };
const SERVER_ENV = {
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  JWT_SECRET,
  // 100,000 requests/s from one client, far above what one process serves, so the limiter counts
  // every request (leased from Redis) but refuses none. (A 60 s window once let the runs, one after
  // another from the same IP, reach the limit: 429s are cheap and would flatter the ratio.)
  RATE_LIMIT_MAX: '1000000',
  RATE_LIMIT_WINDOW_MS: '10000',
  // No load shedding: 16 connections keep the process saturated on purpose (the run measures the
  // request path's cost), so it would shed, and 503s are cheap and would flatter the ratio too.
  OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0',
  OVERLOAD_MAX_EVENT_LOOP_UTILIZATION: '0',
  PAYMENT_FAKE_LATENCY_MS: '0',
  PAYMENT_FAKE_FAILURE_RATE: '0',
  CONSISTENCY_WAIT_MS: '30000',
};

const PRODUCT_QUERY = 'query ($id: ID!) { product(id: $id) { id name price currency available availability { sku available } } }';
const ORDER_QUERY =
  'query ($id: ID!) { order(id: $id) { id status paymentStatus total lines { sku quantity unitPrice lineTotal stockStatus } timeline { type at } } }';
const TYPENAME_BODY = JSON.stringify({ query: '{ __typename }' });
const CHANGE_PRICE =
  'mutation ($input: ChangePriceInput!) { changePrice(input: $input) { revision duplicate } }';

const token = (subject: string, role: 'admin' | 'customer'): string => signToken({ subject, roles: [role], secret: JWT_SECRET, expiresInSeconds: 3_600 });

/** Index scans + sequential scans of the catalog's tables (every schema): the product reads that reached PostgreSQL. */
const catalogScans = async (url: string): Promise<number> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ scans: string }>(
      `select coalesce(sum(coalesce(idx_scan, 0) + coalesce(seq_scan, 0)), 0)::text as scans
         from pg_stat_user_tables where relname in ('products', 'availability')`,
    );
    return Number(rows[0]?.scans ?? 0);
  } finally {
    await client.end();
  }
};

/** Deletes the keys under `prefix` (SCAN, bounded), so runs do not pile up in the shared Redis. */
const dropPrefix = async (redis: Redis, prefix: string): Promise<number> => {
  let cursor = '0';
  let dropped = 0;
  for (let round = 0; round < 1_000; round++) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    if (keys.length > 0) dropped += await redis.del(...keys);
    cursor = next;
    if (cursor === '0') break;
  }
  return dropped;
};

/** Polls until no seeded order is PENDING (the process manager reserved, paid and confirmed them), then settles. */
const awaitOrdersSettled = async (url: string, seeded: Seeded, admin: string): Promise<void> => {
  const deadline = Date.now() + 120_000;
  for (const id of seeded.orderIds) {
    for (;;) {
      const answer = await postGraphql(url, 'query ($id: ID!) { order(id: $id) { status } }', { id }, admin);
      const status = (answer.data?.order as { status?: string } | null | undefined)?.status;
      if (status !== undefined && status !== 'PENDING') break;
      if (Date.now() > deadline) throw new Error(`order ${id} still ${status ?? JSON.stringify(answer)} after 120 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
};

const row = (workload: string, run: Measured, notes: string, details: Readonly<Record<string, unknown>> = {}): WorkloadResult => ({
  workload,
  ops: run.requests,
  rate: round(run.requestsPerSecond),
  rateUnit: 'requests/s',
  seconds: round(run.seconds),
  latencyMs: { p50: run.latencyMs.p50, p99: run.latencyMs.p99, max: run.latencyMs.max },
  eventsAppended: 0,
  notes: `${run.errors} errors (${run.non2xx} non-2xx, ${run.graphqlErrors} GraphQL, ${run.timeouts} timeouts); load ${run.loadAverage1m.before}→${run.loadAverage1m.after}; ${notes}`,
  details: { ...run, ...details },
});

type Measured = CannonRun & { readonly loadAverage1m: { readonly before: number; readonly after: number } };

/** Two runs of the same target as one row: counts added, rates and latencies averaged, both kept. */
const meanOf = (a: Measured, b: Measured): Measured & { readonly runs: readonly Measured[] } => {
  const mean = (x: number, y: number): number => round((x + y) / 2);
  return {
    ...a,
    requests: a.requests + b.requests,
    seconds: a.seconds + b.seconds,
    requestsPerSecond: (a.requests + b.requests) / (a.seconds + b.seconds),
    latencyMs: {
      p50: mean(a.latencyMs.p50, b.latencyMs.p50),
      p90: mean(a.latencyMs.p90, b.latencyMs.p90),
      p99: mean(a.latencyMs.p99, b.latencyMs.p99),
      max: Math.max(a.latencyMs.max, b.latencyMs.max),
      average: mean(a.latencyMs.average, b.latencyMs.average),
    },
    errors: a.errors + b.errors,
    timeouts: a.timeouts + b.timeouts,
    non2xx: a.non2xx + b.non2xx,
    graphqlErrors: a.graphqlErrors + b.graphqlErrors,
    firstFailures: [...a.firstFailures, ...b.firstFailures].slice(0, 3),
    loadAverage1m: { before: a.loadAverage1m.before, after: b.loadAverage1m.after },
    runs: [a, b],
  };
};

/** One autocannon run, with the machine's 1-minute load average before and after (the cores are shared). */
const measure = async (title: string, target: CannonTarget): Promise<Measured> => {
  process.stdout.write(`\n  ${title} ... `);
  const loadBefore = loadavg()[0] ?? 0;
  const run = { ...(await runCannon(target, CANNON)), loadAverage1m: { before: round(loadBefore), after: round(loadavg()[0] ?? 0) } };
  process.stdout.write(`${Math.round(run.requestsPerSecond)} req/s, p99 ${run.latencyMs.p99} ms, ${run.errors} errors`);
  return run;
};

export const apiWorkload: Workload = {
  id: 'api',
  title: 'GraphQL API over HTTP (autocannon) beside a bare fastify+mercurius ceiling',
  settings: {
    ...CANNON,
    seed: SIZES,
    server: { ...SERVER_ENV, JWT_SECRET: '(random per run)', process: 'node --import tsx src/main.ts' },
    queries: { product: PRODUCT_QUERY, order: ORDER_QUERY, mutation: CHANGE_PRICE },
    target: 'cached product ≥ 0.7 × ceiling',
  },
  async run({ openFresh }) {
    const dbUrl = benchDatabaseUrl(DATABASE, 'api');
    // Dropped, recreated and migrated (the event store's schema); the server opens it itself.
    const fresh = await openFresh(DATABASE);
    await fresh.close();
    const prefix = `keel-bench:api:${randomBytes(4).toString('hex')}:`;
    const redis = new Redis(benchRedisUrl('api'), { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    const admin = token('bench-admin', 'admin');
    const processes: ServerProcess[] = [];
    try {
      const ceiling = await startServerProcess('bench/api/ceiling-server.ts', {}, { port: await freePort(), readyPath: '/graphql' });
      processes.push(ceiling);
      const keel = await startServerProcess(
        'src/main.ts',
        { ...SERVER_ENV, DATABASE_URL: dbUrl, REDIS_URL: benchRedisUrl('api'), REDIS_KEY_PREFIX: prefix },
        { port: await freePort(), readyPath: '/health', nodeArgs: (process.env.KEEL_BENCH_API_NODE_ARGS ?? '').split(' ').filter((a) => a !== '') },
      );
      processes.push(keel);
      const seeded = await seedThroughApi(keel.url, SIZES, { admin, customer: (c) => token(c, 'customer') });
      await awaitOrdersSettled(keel.url, seeded, admin);
      // Fill the cache again after the process manager's stock changes, and check it holds every product.
      for (const id of seeded.productIds) await postGraphql(keel.url, PRODUCT_QUERY, { id });
      const cachedKeys = (await Promise.all(seeded.productIds.map((id) => redis.exists(`${prefix}cache:${productTopic(id)}`)))).reduce((a, b) => a + b, 0);
      if (cachedKeys !== seeded.productIds.length) throw new Error(`only ${cachedKeys} of ${seeded.productIds.length} products are in the Redis cache`);

      const productBody = (n: number): string => JSON.stringify({ query: PRODUCT_QUERY, variables: { id: seeded.productIds[n % seeded.productIds.length] } });
      const ceilingBefore = await measure('ceiling (bare fastify+mercurius, constant product)', { url: ceiling.url, body: productBody });
      // Keel's fixed cost per request (helmet, auth, the rate limiter's Redis round trip, mercurius,
      // the cost check) without a resolver: what separates the ceiling from Keel before any read.
      const typenameRun = await measure('{ __typename } (no resolver)', { url: keel.url, body: () => TYPENAME_BODY });
      const scansBefore = await catalogScans(dbUrl);
      const productRun = await measure('product(id), cached', { url: keel.url, body: productBody });
      // The ceiling again right after: the machine's load drifts, the ratio uses the mean of both.
      const ceilingAfter = await measure('ceiling again', { url: ceiling.url, body: productBody });
      await ceiling.stop();
      const ceilingRun = meanOf(ceilingBefore, ceilingAfter);
      const orderRun = await measure('order(id) with lines and timeline, uncached', {
        url: keel.url,
        token: admin,
        body: (n) => JSON.stringify({ query: ORDER_QUERY, variables: { id: seeded.orderIds[n % seeded.orderIds.length] } }),
      });
      // Taken after the order run (which reads no catalog table): PostgreSQL's statistics of the
      // product run have been flushed by then. Each product request looks up a product and its SKU's stock.
      const productMisses = (await catalogScans(dbUrl)) - scansBefore;
      const lookups = 2 * productRun.requests;
      const runId = randomBytes(3).toString('hex');
      const mutationRun = await measure('changePrice mutation', {
        url: keel.url,
        token: admin,
        body: (n) =>
          JSON.stringify({
            query: CHANGE_PRICE,
            variables: { input: { productId: seeded.productIds[n % seeded.productIds.length], price: PRICE + (n % 997) + 1, idempotencyKey: `bench-${runId}-${n}` } },
          }),
      });
      process.stdout.write('\n');
      const ratio = productRun.requestsPerSecond / ceilingRun.requestsPerSecond;
      // A failed request (a 429, an error) is cheap: with any, the ratio says nothing.
      const failed = productRun.errors + ceilingRun.errors;
      const hitRatio = lookups === 0 ? 0 : Math.max(0, 1 - productMisses / lookups);
      return [
        row('api ceiling: bare mercurius', ceilingRun, `constant object, same query text; no auth, rate limit or read side; 2 runs (${Math.round(ceilingBefore.requestsPerSecond)} before, ${Math.round(ceilingAfter.requestsPerSecond)} after the next two rows)`),
        row('api { __typename }', typenameRun, `${round((typenameRun.requestsPerSecond / ceilingRun.requestsPerSecond) * 100, 1)}% of the ceiling; Keel's per-request path without a resolver`),
        row('api product(id) cached', productRun, `${failed === 0 ? `${round(ratio * 100, 1)}% of the ceiling` : `NOT VALID, ${failed} failed requests here or in the ceiling runs (${round(ratio * 100, 1)}% of the ceiling)`} (target 70%); cache hit ratio ${round(hitRatio * 100, 2)}% (${productMisses} catalog scans in PostgreSQL for ${lookups} lookups)`, {
          ratioToCeiling: failed === 0 ? round(ratio, 3) : null,
          targetRatio: 0.7,
          cacheHitRatio: round(hitRatio, 4),
          postgresCatalogScans: productMisses,
          redisKeysChecked: cachedKeys,
        }),
        row('api order(id) uncached', orderRun, `${seeded.orderIds.length} orders in turn, 3 lines each, admin token`),
        row('api changePrice', mutationRun, `${seeded.productIds.length} products in turn, distinct idempotency keys`),
      ];
    } finally {
      for (const child of processes.reverse()) await child.stop();
      await dropPrefix(redis, prefix).catch(() => 0);
      redis.disconnect();
    }
  },
};
