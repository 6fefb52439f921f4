/**
 * Tracing with a sampler (OpenTelemetry's own OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG): at
 * `parentbased_traceidratio` 0, Keel starts no trace of its own, and continues only a client's
 * sampled one. What is not sampled leaves nothing behind that names a trace nobody can open: no
 * `traceparent` in the events' metadata, no exemplar, no exported span.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../../src/api/tokens.js';
import { DEVELOPMENT_JWT_SECRET, loadConfig } from '../../../src/platform/config.js';
import { openDatabase } from '../../../src/platform/database.js';
import type { DatabaseHandle } from '../../../src/platform/database.js';
import { startKeel } from '../../../src/server/index.js';
import type { KeelServer } from '../../../src/server/index.js';
import { graphqlData } from '../../support/api-server.js';
import { createTestDatabase, redisTestPrefix, redisTestUrl } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';
import { startOtlpSink } from '../../support/otlp-sink.js';
import type { OtlpSink } from '../../support/otlp-sink.js';

const CLIENT_TRACE = 'c'.repeat(32);
const admin = signToken({ subject: 'ada', roles: ['admin'], secret: DEVELOPMENT_JWT_SECRET, expiresInSeconds: 3600 });
const alice = signToken({ subject: 'alice', roles: ['customer'], secret: DEVELOPMENT_JWT_SECRET, expiresInSeconds: 3600 });

describe('tracing with a sampler (parentbased_traceidratio at 0; OTLP sink standing in for the collector)', () => {
  let database: TestDatabase;
  let sink: OtlpSink;
  let server: KeelServer;
  let handle: DatabaseHandle;
  const saved = { sampler: process.env.OTEL_TRACES_SAMPLER, arg: process.env.OTEL_TRACES_SAMPLER_ARG };

  const post = (query: string, variables: Record<string, unknown>, token: string, headers: Record<string, string> = {}) => graphqlData(server.url, query, variables, token, headers);

  beforeAll(async () => {
    // Read by the SDK when Keel starts its tracer provider (this file runs in a process of its own).
    process.env.OTEL_TRACES_SAMPLER = 'parentbased_traceidratio';
    process.env.OTEL_TRACES_SAMPLER_ARG = '0';
    database = await createTestDatabase('tracing_sampled');
    sink = await startOtlpSink();
    const config = loadConfig({
      DATABASE_URL: database.url,
      REDIS_URL: redisTestUrl(),
      REDIS_KEY_PREFIX: redisTestPrefix('tracing-sampled'),
      PORT: '0',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'test',
      PAYMENT_FAKE_LATENCY_MS: '0',
      PAYMENT_FAKE_FAILURE_RATE: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    });
    server = await startKeel(config, { handleSignals: false });
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    // Not sampled: no client trace, and Keel starts none at ratio 0.
    await post('mutation ($input: ListProductInput!) { listProduct(input: $input) { position } }', { input: { productId: 'desk', sku: 'DESK', name: 'Desk', price: 9000, currency: 'EUR' } }, admin);
    await post('mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { position } }', { input: { sku: 'DESK', quantity: 5 } }, admin);
    // Sampled by its client: continued, whatever the ratio.
    await post(
      'mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }',
      { input: { lines: [{ sku: 'DESK', quantity: 1, unitPrice: 9000 }], currency: 'EUR' } },
      alice,
      { traceparent: `00-${CLIENT_TRACE}-${'d'.repeat(16)}-01` },
    );
  });

  afterAll(async () => {
    await server?.close();
    await handle?.close();
    await sink?.close();
    await database?.drop();
    for (const [name, value] of [['OTEL_TRACES_SAMPLER', saved.sampler], ['OTEL_TRACES_SAMPLER_ARG', saved.arg]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('exports the client\'s sampled trace, and no span of an unsampled one', async () => {
    const deadline = Date.now() + 15_000;
    while (!sink.spans.some((s) => s.traceId === CLIENT_TRACE && s.name === 'append')) {
      if (Date.now() > deadline) throw new Error(`no append span of the client's trace among ${sink.spans.map((s) => s.name).join(', ')}`);
      await sleep(200);
    }
    // Projector batches, the catalog mutations and every other root would be traces of their own.
    await sleep(1_500);
    expect(new Set(sink.spans.map((s) => s.traceId))).toEqual(new Set([CLIENT_TRACE]));
  });

  it('writes a trace context into the metadata of sampled events only', async () => {
    const { rows } = await sql<{ type: string; traceparent: string | null }>`select type, metadata->>'traceparent' as traceparent from keel_events
      where type in ('ProductListed', 'StockReceived', 'OrderPlaced') order by position`.execute(handle.db);
    expect(rows.map((row) => [row.type, row.traceparent?.slice(3, 35) ?? null])).toEqual([
      ['ProductListed', null],
      ['StockReceived', null],
      ['OrderPlaced', CLIENT_TRACE],
    ]);
  });

  it('keeps only sampled traces as exemplars', async () => {
    const response = await fetch(`${server.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    const text = await response.text();
    const exemplars = [...text.matchAll(/# \{trace_id="([0-9a-f]{32})"\}/g)].map((m) => m[1]);
    expect(exemplars.length, text.split('\n').filter((l) => l.includes('duration_seconds_bucket') && !l.endsWith(' 0')).join('\n')).toBeGreaterThan(0);
    expect(new Set(exemplars)).toEqual(new Set([CLIENT_TRACE]));
    // The product's commands (listProduct) ran unsampled: observed, with no exemplar.
    const product = text.split('\n').filter((line) => line.startsWith('keel_command_duration_seconds_bucket{') && line.includes('aggregate="product"'));
    expect(product.some((line) => line.startsWith('keel_command_duration_seconds_bucket{le="+Inf"') && line.endsWith(' 1'))).toBe(true);
    expect(product.some((line) => line.includes('# {'))).toBe(false);
  });
});
