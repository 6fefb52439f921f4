/**
 * A real Prometheus (Debian's `prometheus`, test/support/prometheus.ts) scrapes a real Keel process
 * (src/main.ts on its own database, every role in one process, tracing on) every second while a
 * short flow runs through the GraphQL API: a product listed and repriced, stock received, orders
 * placed (the process manager reserves, pays and confirms them) and one refused. Then, only through
 * Prometheus's HTTP API, what an operator's dashboard and alerts rely on: the target is up, the
 * command and GraphQL counters moved by what was sent, the orders projection's freshness histogram
 * grew and has a finite p99, lag went back to 0, and exemplars carry the trace ids of spans Keel
 * exported (to a small OTLP/HTTP sink here, standing in for Jaeger's collector).
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../../src/api/tokens.js';
import { E2E_JWT_SECRET, errorCodes, postGraphql, startApiServer } from '../../support/api-server.js';
import type { ApiServer } from '../../support/api-server.js';
import { createTestDatabase, redisTestPrefix, redisTestUrl } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';
import { startPrometheus } from '../../support/prometheus.js';
import type { Prometheus, Sample } from '../../support/prometheus.js';

const admin = signToken({ subject: 'ada', roles: ['admin'], secret: E2E_JWT_SECRET, expiresInSeconds: 3600 });
const alice = signToken({ subject: 'alice', roles: ['customer'], secret: E2E_JWT_SECRET, expiresInSeconds: 3600 });

const LIST = 'mutation ListProduct($input: ListProductInput!) { listProduct(input: $input) { position } }';
const PRICE = 'mutation ChangePrice($input: ChangePriceInput!) { changePrice(input: $input) { position } }';
const RECEIVE = 'mutation ReceiveStock($input: ReceiveStockInput!) { receiveStock(input: $input) { position } }';
const PLACE = 'mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId position } }';
const MY_ORDERS = 'query MyOrders { myOrders(first: 50) { edges { node { id status } } } }';
const ORDERS = 8;

/** An OTLP/HTTP endpoint that keeps the trace ids of the spans it receives (OTLP JSON, hex ids). */
const startTraceSink = async (): Promise<{ url: string; traceIds: Set<string>; close(): Promise<void> }> => {
  const traceIds = new Set<string>();
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      for (const match of body.matchAll(/"traceId":"([0-9a-f]{32})"/g)) traceIds.add(match[1] ?? '');
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, traceIds, close: () => new Promise((resolve) => server.close(() => resolve())) };
};

/** Polls `expr` until `done` holds for its samples; returns them. */
const eventually = async (prometheus: Prometheus, expr: string, done: (samples: Sample[]) => boolean, timeoutMs = 15_000): Promise<Sample[]> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await prometheus.query(expr);
    if (done(samples)) return samples;
    if (Date.now() > deadline) throw new Error(`${expr} did not get there within ${timeoutMs} ms: ${JSON.stringify(samples)}`);
    await sleep(250);
  }
};

/** The samples as "label=value,… → number" lines, for readable equality. */
const byLabels = (samples: Sample[], ...labels: string[]): Record<string, number> =>
  Object.fromEntries(samples.map((s) => [labels.map((l) => s.metric[l] ?? '').join(' '), s.value]));

describe('Prometheus scraping a running Keel during a short flow', () => {
  let database: TestDatabase;
  let sink: Awaited<ReturnType<typeof startTraceSink>>;
  let server: ApiServer;
  let prometheus: Prometheus;
  let freshnessBefore = 0;

  beforeAll(async () => {
    database = await createTestDatabase('ops_prometheus');
    sink = await startTraceSink();
    server = await startApiServer({
      DATABASE_URL: database.url,
      REDIS_URL: redisTestUrl(),
      REDIS_KEY_PREFIX: redisTestPrefix('ops-prometheus'),
      PAYMENT_FAKE_LATENCY_MS: '0',
      PAYMENT_FAKE_FAILURE_RATE: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      OTEL_SERVICE_NAME: 'keel-e2e',
    });
    const started = Date.now();
    prometheus = await startPrometheus({ targets: [new URL(server.url).host], job: 'keel' });
    await prometheus.scrapedSince(started, 15_000);
    const before = await prometheus.query('sum(keel_projection_freshness_seconds_count{projection="orders"})');
    freshnessBefore = before[0]?.value ?? 0;

    const sent = async (query: string, input: Record<string, unknown>, token: string): Promise<void> => {
      const response = await postGraphql(server.url, query, { input }, token);
      expect(response.body.errors, JSON.stringify(response.body)).toBeUndefined();
    };
    await sent(LIST, { productId: 'lamp', sku: 'LAMP', name: 'Lamp', price: 4500, currency: 'EUR' }, admin);
    await sent(PRICE, { productId: 'lamp', price: 3900 }, admin);
    await sent(RECEIVE, { sku: 'LAMP', quantity: 100 }, admin);
    for (let i = 0; i < ORDERS; i += 1) await sent(PLACE, { lines: [{ sku: 'LAMP', quantity: 1, unitPrice: 3900 }], currency: 'EUR' }, alice);
    // Refused by the order's decider: a price that is not the catalog's.
    const refused = await postGraphql(server.url, PLACE, { input: { lines: [{ sku: 'LAMP', quantity: 1, unitPrice: 4500 }], currency: 'EUR' } }, alice);
    expect(errorCodes(refused)).toEqual(['KEEL_ERR_PRICE_CHANGED']);
    // The process manager confirms every order (the fake provider authorizes at once).
    const deadline = Date.now() + 20_000;
    for (;;) {
      const orders = await postGraphql(server.url, MY_ORDERS, undefined, alice);
      const edges = (orders.body.data?.myOrders as { edges: Array<{ node: { status: string } }> } | undefined)?.edges ?? [];
      if (edges.length === ORDERS && edges.every((e) => e.node.status === 'CONFIRMED')) break;
      if (Date.now() > deadline) throw new Error(`orders not all confirmed: ${JSON.stringify(edges)}`);
      await sleep(200);
    }
    await postGraphql(server.url, MY_ORDERS, undefined, alice);
    // Everything above is in Prometheus once one scrape has happened after it.
    await prometheus.scrapedSince(Date.now(), 10_000);
  });

  afterAll(async () => {
    await prometheus?.stop();
    await server?.stop();
    await sink?.close();
    await database?.drop();
  });

  it('has the Keel target up', async () => {
    const up = await prometheus.query('up{job="keel"}');
    expect(up.map((s) => s.value)).toEqual([1]);
  });

  it('labels the series with the process\'s role, and says its version (keel_build_info)', async () => {
    const build = await prometheus.query('keel_build_info');
    expect(build).toEqual([expect.objectContaining({ metric: expect.objectContaining({ role: 'all', job: 'keel', version: expect.any(String) }), value: 1 })]);
    const roles = await prometheus.query('count by (role) ({job="keel", __name__=~"keel_.+"})');
    expect(roles.map((s) => s.metric.role)).toEqual(['all']);
  });

  it('counts the commands sent, by aggregate and outcome', async () => {
    const commands = byLabels(await prometheus.query('sum by (aggregate, outcome) (keel_commands_total)'), 'aggregate', 'outcome');
    // Sent through the API: 2 product commands, 1 stock delivery, 8 orders and 1 refused order. The
    // process manager's own commands (reservations, payments, confirmations) come on top.
    expect(commands['product ok']).toBe(2);
    expect(commands['order rejected']).toBe(1);
    expect(commands['order ok']).toBeGreaterThanOrEqual(ORDERS);
    expect(commands['inventory ok']).toBeGreaterThanOrEqual(1);
    expect(Object.values(commands).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2 + 1 + ORDERS + 1);
  });

  it('counts the GraphQL operations by name, type and outcome', async () => {
    const operations = byLabels(await prometheus.query('sum by (operation, type, outcome) (keel_graphql_operations_total)'), 'operation', 'type', 'outcome');
    expect(operations).toMatchObject({
      'ListProduct mutation ok': 1,
      'ChangePrice mutation ok': 1,
      'ReceiveStock mutation ok': 1,
      'PlaceOrder mutation ok': ORDERS,
      'PlaceOrder mutation error': 1,
    });
    expect(operations['MyOrders query ok']).toBeGreaterThanOrEqual(2);
    const errors = byLabels(await prometheus.query('sum by (operation, code) (keel_graphql_errors_total)'), 'operation', 'code');
    expect(errors).toEqual({ 'PlaceOrder KEEL_ERR_PRICE_CHANGED': 1 });
  });

  it('grows the orders projection\'s freshness histogram, with a finite p99', async () => {
    const [count] = await prometheus.query('sum(keel_projection_freshness_seconds_count{projection="orders"})');
    // Each order's placement and confirmation at least.
    expect((count?.value ?? 0) - freshnessBefore).toBeGreaterThanOrEqual(2 * ORDERS);
    const [p99] = await prometheus.query('histogram_quantile(0.99, sum by (le) (rate(keel_projection_freshness_seconds_bucket{projection="orders"}[1m])))');
    expect(Number.isFinite(p99?.value)).toBe(true);
    expect(p99?.value).toBeGreaterThan(0);
  });

  it('sees every projection\'s lag go back to 0', async () => {
    const lag = await eventually(prometheus, 'keel_projection_lag_events', (samples) => samples.length > 0 && samples.every((s) => s.value === 0));
    expect(lag.map((s) => s.metric.projection)).toContain('orders');
    const age = await prometheus.query('max(keel_projection_oldest_unprojected_age_seconds)');
    expect(age.map((s) => s.value)).toEqual([0]);
  });

  it('keeps exemplars whose trace_id is a trace Keel exported', async () => {
    const exemplars = (await prometheus.queryExemplars('keel_graphql_operation_duration_seconds_bucket or keel_projection_freshness_seconds_bucket or keel_command_duration_seconds_bucket')).flatMap((series) =>
      series.exemplars.map((e) => ({ metric: series.seriesLabels.__name__, traceId: e.labels.trace_id })),
    );
    expect(new Set(exemplars.map((e) => e.metric))).toEqual(new Set(['keel_graphql_operation_duration_seconds_bucket', 'keel_projection_freshness_seconds_bucket', 'keel_command_duration_seconds_bucket']));
    for (const { traceId } of exemplars) expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    // Spans are exported in batches about every second.
    const deadline = Date.now() + 10_000;
    while (!exemplars.some((e) => sink.traceIds.has(e.traceId ?? '')) && Date.now() < deadline) await sleep(250);
    expect(exemplars.filter((e) => sink.traceIds.has(e.traceId ?? '')).length).toBeGreaterThan(0);
  });
});
