/**
 * Tracing, end to end in one process (startKeel with OTEL_EXPORTER_OTLP_ENDPOINT): a checkout sent
 * with a client's `traceparent` is one trace from the GraphQL request through the command and the
 * append; its events carry the trace context; the projector's batch links to it; the process
 * manager's reactions and the subscription push continue it; the exemplars name it; the request's log lines name it; and a
 * replay starts a trace of its own, marked as one. Spans are collected by a small OTLP/HTTP sink
 * standing in for the collector (Jaeger).
 */
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../../src/api/tokens.js';
import { openEventStore } from '../../../src/eventstore/open.js';
import { DEVELOPMENT_JWT_SECRET, loadConfig } from '../../../src/platform/config.js';
import { openDatabase } from '../../../src/platform/database.js';
import type { DatabaseHandle } from '../../../src/platform/database.js';
import { createLogger } from '../../../src/platform/logger.js';
import { replayStream } from '../../../src/replay/index.js';
import { startKeel } from '../../../src/server/index.js';
import type { KeelServer } from '../../../src/server/index.js';
import { subscribe, wsClient } from '../../support/api-ws.js';
import { graphqlData } from '../../support/api-server.js';
import { createTestDatabase, redisTestPrefix, redisTestUrl } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';
import { startOtlpSink } from '../../support/otlp-sink.js';
import type { OtlpSink, OtlpSpan } from '../../support/otlp-sink.js';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const admin = signToken({ subject: 'ada', roles: ['admin'], secret: DEVELOPMENT_JWT_SECRET, expiresInSeconds: 3600 });
const alice = signToken({ subject: 'alice', roles: ['customer'], secret: DEVELOPMENT_JWT_SECRET, expiresInSeconds: 3600 });

const attribute = (span: OtlpSpan, key: string): unknown => {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  return value === undefined ? undefined : Object.values(value)[0];
};

describe('traces across the write path, the projector and the process manager (OTLP sink standing in for the collector)', () => {
  let database: TestDatabase;
  let sink: OtlpSink;
  let server: KeelServer;
  let handle: DatabaseHandle;
  const lines: string[] = [];
  let orderId = '';

  const post = (query: string, variables: Record<string, unknown>, token: string, headers: Record<string, string> = {}) => graphqlData(server.url, query, variables, token, headers);

  const spansUntil = async (what: string, found: (spans: OtlpSpan[]) => boolean): Promise<OtlpSpan[]> => {
    const deadline = Date.now() + 15_000;
    while (!found(sink.spans)) {
      if (Date.now() > deadline) throw new Error(`${what}: not among ${sink.spans.map((s) => s.name).join(', ')}`);
      await sleep(200);
    }
    return sink.spans;
  };

  beforeAll(async () => {
    database = await createTestDatabase('tracing');
    sink = await startOtlpSink();
    const config = loadConfig({
      DATABASE_URL: database.url,
      REDIS_URL: redisTestUrl(),
      REDIS_KEY_PREFIX: redisTestPrefix('tracing'),
      PORT: '0',
      LOG_LEVEL: 'info',
      NODE_ENV: 'test',
      PAYMENT_FAKE_LATENCY_MS: '0',
      PAYMENT_FAKE_FAILURE_RATE: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    });
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    server = await startKeel(config, { handleSignals: false, logger: createLogger(config, capture) });
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    await post('mutation ($input: ListProductInput!) { listProduct(input: $input) { position } }', { input: { productId: 'lamp', sku: 'LAMP', name: 'Lamp', price: 4500, currency: 'EUR' } }, admin);
    await post('mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { position } }', { input: { sku: 'LAMP', quantity: 10 } }, admin);
    const placed = await post(
      'mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }',
      { input: { lines: [{ sku: 'LAMP', quantity: 1, unitPrice: 4500 }], currency: 'EUR' } },
      alice,
      { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` },
    );
    orderId = String(placed.placeOrder?.orderId);
  });

  afterAll(async () => {
    await server?.close();
    await handle?.close();
    await sink?.close();
    await database?.drop();
  });

  it('continues the client\'s trace from the request through the command to the append', async () => {
    const spans = await spansUntil('the append', (all) => all.some((s) => s.traceId === CLIENT_TRACE && s.name === 'append'));
    const request = spans.find((s) => s.traceId === CLIENT_TRACE && s.name === 'graphql mutation PlaceOrder');
    expect(request?.parentSpanId).toBe(CLIENT_SPAN);
    expect(attribute(request as OtlpSpan, 'http.request.method')).toBe('POST');
    expect(attribute(request as OtlpSpan, 'http.response.status_code')).toBe(200);
    expect(attribute(request as OtlpSpan, 'keel.request_id')).toMatch(/^[0-9a-f-]{36}$/);
    const command = spans.find((s) => s.traceId === CLIENT_TRACE && s.name === 'command order');
    expect(command?.parentSpanId).toBe(request?.spanId);
    const append = spans.find((s) => s.traceId === CLIENT_TRACE && s.name === 'append');
    expect(append?.parentSpanId).toBe(command?.spanId);
    expect(attribute(append as OtlpSpan, 'keel.stream')).toBe(`order-${orderId}`);
  });

  it('starts a trace of its own for a request without a traceparent', async () => {
    await post('mutation Restock($input: ReceiveStockInput!) { receiveStock(input: $input) { position } }', { input: { sku: 'LAMP', quantity: 1 } }, admin);
    const spans = await spansUntil('the untraced request', (all) => all.some((s) => s.name === 'graphql mutation Restock'));
    const request = spans.find((s) => s.name === 'graphql mutation Restock');
    expect(request?.traceId).not.toBe(CLIENT_TRACE);
    expect(request?.parentSpanId ?? '').toBe('');
    await spansUntil('its command', (all) => all.some((s) => s.name === 'command inventory' && s.traceId === request?.traceId && s.parentSpanId === request?.spanId));
  });

  it('writes the command\'s trace context into its events\' metadata', async () => {
    const { rows } = await sql<{ traceparent: string | null }>`select metadata->>'traceparent' as traceparent from keel_events
      where stream_id = ${`order-${orderId}`} and type = 'OrderPlaced'`.execute(handle.db);
    expect(rows[0]?.traceparent).toMatch(new RegExp(`^00-${CLIENT_TRACE}-[0-9a-f]{16}-01$`));
  });

  it('links the orders projection\'s batch to the trace, and the process manager\'s reactions continue it', async () => {
    const spans = await spansUntil('a reaction and a batch', (all) =>
      all.some((s) => s.traceId === CLIENT_TRACE && s.name === 'react OrderPlaced') && all.some((s) => s.name === 'projection orders batch' && (s.links ?? []).some((l) => l.traceId === CLIENT_TRACE)),
    );
    const batch = spans.find((s) => s.name === 'projection orders batch' && (s.links ?? []).some((l) => l.traceId === CLIENT_TRACE));
    // A batch is a trace of its own: it links the flows it applies, it continues none of them.
    expect(batch?.traceId).not.toBe(CLIENT_TRACE);
    const reaction = spans.find((s) => s.traceId === CLIENT_TRACE && s.name === 'react OrderPlaced');
    // The reaction's own commands (reserving the stock) are in the trace too.
    expect(spans.some((s) => s.traceId === CLIENT_TRACE && s.name === 'command inventory' && s.parentSpanId === reaction?.spanId)).toBe(true);
  });

  it('continues the trace in the subscription push the change causes', async () => {
    const client = wsClient(server.url, alice);
    const subscription = subscribe(client, 'subscription { availabilityChanged(sku: "LAMP") { sku available } }');
    try {
      await sleep(500);
      const trace = 'a'.repeat(32);
      await post(
        'mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }',
        { input: { lines: [{ sku: 'LAMP', quantity: 1, unitPrice: 4500 }], currency: 'EUR' } },
        alice,
        { traceparent: `00-${trace}-${'b'.repeat(16)}-01` },
      );
      const spans = await spansUntil('the push', (all) => all.some((s) => s.traceId === trace && s.name === 'subscription push'));
      const push = spans.find((s) => s.traceId === trace && s.name === 'subscription push');
      expect(attribute(push as OtlpSpan, 'keel.topic')).toBe('availability:LAMP');
    } finally {
      await subscription.close();
      await client.dispose();
    }
  });

  it('names the trace in the exemplars of /metrics (OpenMetrics)', async () => {
    const response = await fetch(`${server.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(response.headers.get('content-type')).toContain('application/openmetrics-text');
    const text = await response.text();
    // One exemplar per bucket, the latest observation's: the trace of some order command, which
    // must be a trace Keel exported.
    const exemplars = [...text.matchAll(/keel_command_duration_seconds_bucket\{[^}]*aggregate="order"[^}]*\} \d+ # \{trace_id="([0-9a-f]{32})"\}/g)].map((m) => m[1]);
    expect(exemplars.length).toBeGreaterThan(0);
    // The appends' too: the trace of the commands they carried.
    const appends = [...text.matchAll(/keel_append_duration_seconds_bucket\{[^}]*adapter="postgres"[^}]*\} \d+ # \{trace_id="([0-9a-f]{32})"\}/g)].map((m) => m[1]);
    expect(appends.length).toBeGreaterThan(0);
    await spansUntil(
      'the exemplars\' traces',
      (all) => exemplars.every((id) => all.some((span) => span.traceId === id)) && appends.every((id) => all.some((span) => span.traceId === id && span.name === 'append')),
    );
    expect(text).toMatch(/# EOF\n$/);
  });

  it('names the trace and the request\'s span on the log lines of a traced request', async () => {
    const spans = await spansUntil('the request', (all) => all.some((s) => s.traceId === CLIENT_TRACE && s.name === 'graphql mutation PlaceOrder'));
    const request = spans.find((s) => s.traceId === CLIENT_TRACE && s.name === 'graphql mutation PlaceOrder');
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const completed = parsed.find((line) => line.msg === 'request completed' && line.traceId === CLIENT_TRACE);
    expect(completed?.spanId).toBe(request?.spanId);
    // Every line of that request from its span's start on: only fastify's "incoming request",
    // written before the route's handler runs, comes before it.
    const ofRequest = parsed.filter((line) => line.requestId === completed?.requestId && line.msg !== 'incoming request');
    expect(ofRequest.length).toBeGreaterThan(0);
    expect(ofRequest.filter((line) => line.traceId !== CLIENT_TRACE || line.spanId !== request?.spanId)).toEqual([]);
  });

  it('runs a replay in a trace of its own, marked as a replay', async () => {
    const store = await openEventStore(handle);
    try {
      await replayStream(store, `order-${orderId}`);
    } finally {
      await store.close();
    }
    const spans = await spansUntil('the replay', (all) => all.some((s) => s.name === 'replay stream'));
    const replay = spans.find((s) => s.name === 'replay stream');
    expect(replay?.traceId).not.toBe(CLIENT_TRACE);
    expect(replay?.parentSpanId ?? '').toBe('');
    expect(replay?.links ?? []).toEqual([]);
    expect(attribute(replay as OtlpSpan, 'keel.replay')).toBe(true);
  });
});
