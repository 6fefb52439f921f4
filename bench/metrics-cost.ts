/**
 * `npx tsx bench/metrics-cost.ts`: what each metric call on a hot path costs, in nanoseconds per
 * call (a tight loop of a million, after a warm-up), next to what a request or a command costs
 * anyway. A figure that does not drift with the machine's load as much as whole-system runs do
 * (bench/overhead.ts); docs/operations/operating.md adds them up per request.
 */
import { randomUUID } from 'node:crypto';
import { operationOf } from '../src/api/graphql/operation-metrics.js';
import { appendMetrics, cacheMetrics, commandMetrics, metrics, projectionMetrics } from '../src/platform/metrics.js';

const N = 1_000_000;
const time = (name: string, fn: () => void): void => {
  for (let i = 0; i < 10_000; i++) fn();
  const started = performance.now();
  for (let i = 0; i < N; i++) fn();
  console.log(`| ${name} | ${(((performance.now() - started) * 1e6) / N).toFixed(0)} ns |`);
};

const operations = metrics.graphqlOperations.labels('Product', 'query', 'ok');
const duration = metrics.graphqlDuration.labels('Product', 'query');
const near = cacheMetrics('near');
const command = commandMetrics.duration('order');
const outcome = commandMetrics.outcome('order');
const append = appendMetrics('postgres');
const freshness = projectionMetrics.freshness('orders');
const QUERY = 'query ($id: ID!) { product(id: $id) { id name price currency available availability { sku available } } }';

console.log('| call | cost |\n|---|---|');
time('GraphQL request: operation counter', () => operations.inc());
time('GraphQL request: duration histogram', () => duration.observe(0.003));
time('GraphQL request: operation name from the text (a text not seen before)', () => operationOf(QUERY, undefined));
time('GraphQL request: request id (randomUUID)', () => randomUUID());
time('cached read: near-cache hit counter', () => near.hit.inc());
time('command: outcome counter', () => outcome('ok'));
time('command: duration histogram', () => command.observe(0.002));
const appendedEvents = [{ metadata: { correlationId: 'c' } }];
time('append: counter and two histograms', () => append.record(appendedEvents, 0.002));
time('projection: freshness, per event', () => freshness.observe(0.05));
