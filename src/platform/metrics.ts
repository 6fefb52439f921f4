/**
 * Keel's metrics: every series it exports, defined once here (prom-client), and served at
 * `GET /metrics` by each process (the API on its port, the projector on PROJECTOR_PORT).
 *
 * One registry per process (module state, like prom-client's own default): the layers record
 * through the small functions and children below, which cache their labelled series (one Map
 * lookup, no label objects built per call). Counters and histograms are Keel's own
 * (metric-series.ts: recording is a few additions, where prom-client's hash the labels on every
 * call); gauges, Node's default metrics, the registry and the exposition are prom-client's.
 *
 * Exposition: Prometheus text (0.0.4) by default, OpenMetrics 1.0 when the scraper's Accept asks for
 * it; exemplars (the trace id of one observation per bucket) exist only in OpenMetrics, which is
 * what Prometheus asks for first. The registry switches format per scrape, one scrape at a time.
 *
 * `METRIC_NAMES` lists every Keel series; the Prometheus rules, the Grafana dashboard and the docs
 * are checked against it.
 */
import client from 'prom-client';
import type { Gauge } from 'prom-client';
import { Counter, Histogram } from './metric-series.js';
import { traceIdOf, traceparentIn, tracingEnabled } from './tracing.js';

export const registry = new client.Registry<client.RegistryContentType>();
registry.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);

/** Buckets of every latency histogram, in seconds. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Freshness can be minutes behind during a rebuild or an outage. */
export const FRESHNESS_BUCKETS = [...LATENCY_BUCKETS, 60, 120];
const SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];

const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> => new Counter({ name, help, labelNames, registers: [registry] });
const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> =>
  new client.Gauge({ name, help, labelNames, registers: [registry] });
const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[], enableExemplars = false): Histogram<L> =>
  new Histogram({ name, help, labelNames, buckets, enableExemplars, registers: [registry] });

export const metrics = {
  commands: counter('keel_commands_total', 'Commands handled, by aggregate and outcome (ok, rejected: a domain error, conflict: retries exhausted, error).', ['aggregate', 'outcome']),
  commandDuration: histogram('keel_command_duration_seconds', 'Time from a command reaching the handler to its result, including queueing behind its stream.', ['aggregate'], LATENCY_BUCKETS, true),
  commandConflicts: counter('keel_command_conflicts_total', 'Appends refused for a wrong expected revision (another process wrote the stream).', ['aggregate']),
  commandRetries: counter('keel_command_retries_total', 'Command batches decided again after a conflict.', ['aggregate']),
  commandBatchSize: histogram('keel_command_batch_size', 'Commands of one stream decided together and written in one append.', ['aggregate'], SIZE_BUCKETS),
  appends: counter('keel_appends_total', 'Appends to the event store, by adapter.', ['adapter']),
  appendDuration: histogram('keel_append_duration_seconds', 'Time of one append, from the call to its acknowledgement.', ['adapter'], LATENCY_BUCKETS, true),
  appendEvents: histogram('keel_append_events', 'Events written by one append.', ['adapter'], SIZE_BUCKETS),
  projectionPosition: gauge('keel_projection_position', 'The last log position the projection committed.', ['projection']),
  projectionLagEvents: gauge('keel_projection_lag_events', 'Events of the projection committed to the log and not yet applied (counted up to 10,000).', ['projection']),
  projectionOldestAge: gauge('keel_projection_oldest_unprojected_age_seconds', 'Age of the oldest event the projection has not applied (0 when caught up).', ['projection']),
  projectionBatchSize: histogram('keel_projection_batch_size', 'Events in one committed projection batch.', ['projection'], SIZE_BUCKETS),
  projectionBatchDuration: histogram('keel_projection_batch_duration_seconds', 'Time to apply and commit one projection batch.', ['projection'], LATENCY_BUCKETS),
  projectionParked: gauge('keel_projection_parked_events', 'Events parked (or blocked behind a parked one) in the live generation.', ['projection']),
  projectionLeader: gauge('keel_projection_leader', '1 while this process runs the projection, 0 while it stands by.', ['projection']),
  freshness: histogram('keel_projection_freshness_seconds', 'Time from an event\'s append to the commit of the read model that applied it.', ['projection'], FRESHNESS_BUCKETS, true),
  cacheRequests: counter('keel_cache_requests_total', 'Read-cache lookups, by cache and result (hit, miss).', ['cache', 'result']),
  cacheFills: counter('keel_cache_fills_total', 'Entries written into a read cache after a miss.', ['cache']),
  graphqlOperations: counter('keel_graphql_operations_total', 'GraphQL operations, by name, type and outcome (ok, error).', ['operation', 'type', 'outcome']),
  graphqlDuration: histogram('keel_graphql_operation_duration_seconds', 'Time of one GraphQL operation over HTTP, from the request to the response.', ['operation', 'type'], LATENCY_BUCKETS, true),
  graphqlErrors: counter('keel_graphql_errors_total', 'GraphQL errors answered, by operation and error code.', ['operation', 'code']),
  rateLimitRefusals: counter(
    'keel_rate_limit_refusals_total',
    'Requests refused by a limit: graphql (the rate limit, KEEL_ERR_RATE_LIMITED), websocket_sockets (KEEL_ERR_TOO_MANY_SOCKETS), websocket_subscriptions (KEEL_ERR_TOO_MANY_SUBSCRIPTIONS).',
    ['limit'],
  ),
  overloadShed: counter('keel_overload_shed_total', 'Requests shed under load (503 KEEL_ERR_OVERLOADED).', []),
  pendingReactions: gauge('keel_process_manager_pending_reactions', 'Reactions of the process manager started and not yet finished.', ['process']),
  reactions: counter('keel_process_manager_reactions_total', 'Reactions of the process manager, by outcome (ok; error: one failed attempt, retried or given up).', ['process', 'outcome']),
  horizonAge: gauge('keel_xmin_horizon_age_seconds', 'Age of the oldest transaction at the PostgreSQL cluster\'s xmin horizon (0 when none runs).', []),
  horizonWaiting: gauge('keel_xmin_horizon_waiting_seconds', 'How long committed events have waited behind the xmin horizon (0 when none waits).', []),
  horizonHolder: gauge('keel_xmin_horizon_holder', 'The session holding the xmin horizon back while events wait behind it; the value is its transaction\'s age in seconds.', ['pid', 'database', 'application', 'state']),
  buildInfo: gauge('keel_build_info', 'Always 1: the version and role of this process.', ['version', 'role']),
};

/** Every series Keel defines (histograms as their base name). */
export const METRIC_NAMES: readonly string[] = Object.values(metrics).map((metric) => (metric as unknown as { name: string }).name);

client.collectDefaultMetrics({ register: registry });

/** `role` on every series, and keel_build_info. Called once by the composition root. */
export const describeProcess = (role: string, version: string): void => {
  registry.setDefaultLabels({ role });
  metrics.buildInfo.set({ version, role }, 1);
};

/**
 * A labelled child per label value, created on first use: the hot paths call `of(value)` and get
 * the same object back every time.
 */
const children = <T>(make: (value: string) => T): ((value: string) => T) => {
  const cache = new Map<string, T>();
  return (value) => {
    let child = cache.get(value);
    if (child === undefined) {
      child = make(value);
      cache.set(value, child);
    }
    return child;
  };
};

export const commandMetrics = {
  outcome: children((aggregate) => {
    const of = children((outcome) => metrics.commands.labels(aggregate, outcome));
    return (outcome: 'ok' | 'rejected' | 'conflict' | 'error') => of(outcome).inc();
  }),
  // Observed with the command span's trace id: the exemplar.
  duration: children((aggregate) => metrics.commandDuration.labels(aggregate)),
  conflicts: children((aggregate) => metrics.commandConflicts.labels(aggregate)),
  retries: children((aggregate) => metrics.commandRetries.labels(aggregate)),
  batchSize: children((aggregate) => metrics.commandBatchSize.labels(aggregate)),
};

export const appendMetrics = (adapter: 'postgres' | 'esdb') => {
  const appends = metrics.appends.labels(adapter);
  const events = metrics.appendEvents.labels(adapter);
  const duration = metrics.appendDuration.labels(adapter);
  return {
    /**
     * One append of `appendedEvents` that took `seconds`. The exemplar is the trace the events
     * name in their metadata (their command's, whose span is the append's parent), when tracing is on.
     */
    record: (appendedEvents: readonly { readonly metadata: Readonly<Record<string, unknown>> }[], seconds: number): void => {
      appends.inc();
      events.observe(appendedEvents.length);
      const first = appendedEvents[0];
      duration.observe(seconds, first === undefined || !tracingEnabled() ? undefined : traceIdOf(traceparentIn(first.metadata)));
    },
  };
};

export const projectionMetrics = {
  /**
   * A projection's series exist from its start, at zero: a series born with its first batch
   * already counted would hide that batch from rate() and increase().
   */
  declare: (projection: string): void => {
    const labels = { projection };
    metrics.freshness.zero(labels);
    metrics.projectionBatchSize.zero(labels);
    metrics.projectionBatchDuration.zero(labels);
  },
  freshness: children((projection) => metrics.freshness.labels(projection)),
  batch: children((projection) => ({
    size: metrics.projectionBatchSize.labels(projection),
    duration: metrics.projectionBatchDuration.labels(projection),
  })),
};

export const cacheMetrics = children((cache) => ({
  hit: metrics.cacheRequests.labels(cache, 'hit'),
  miss: metrics.cacheRequests.labels(cache, 'miss'),
  fill: metrics.cacheFills.labels(cache),
}));

/** Seconds since `start` (a `performance.now()` reading). */
export const secondsSince = (start: number): number => (performance.now() - start) / 1000;

const OPENMETRICS = client.Registry.OPENMETRICS_CONTENT_TYPE;
const PROMETHEUS = client.Registry.PROMETHEUS_CONTENT_TYPE;

/**
 * Counters are defined with their `_total` name. prom-client's OpenMetrics output renames a counter
 * to its base name (it prints `_total` on the sample itself) and keeps that name: it is put back
 * before a Prometheus-text scrape, which prints the name as it is.
 */
const counterNames = new Map<object, string>();
for (const metric of registry.getMetricsAsArray()) {
  const { type, name } = metric as unknown as { type: string; name: string };
  if (type === 'counter') counterNames.set(metric, name);
}

let scraping: Promise<unknown> = Promise.resolve();

/**
 * Gauges read from elsewhere at scrape time (a projection's lag, the horizon): each sampler runs
 * before a scrape is serialized, within `SAMPLE_TIMEOUT_MS`. One that fails or is late leaves its
 * gauges at their last values; the scrape is answered anyway.
 */
const samplers = new Set<() => Promise<void>>();
const SAMPLE_TIMEOUT_MS = 2000;

/** Registers a sampler; returns its removal (a stopping worker calls it). */
export const onScrape = (sample: () => Promise<void>): (() => void) => {
  samplers.add(sample);
  return () => {
    samplers.delete(sample);
  };
};

const runSamplers = async (): Promise<void> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SAMPLE_TIMEOUT_MS);
  });
  await Promise.race([Promise.all([...samplers].map((sample) => sample().catch(() => undefined))), late]);
  clearTimeout(timer);
};

/** The body and content type of one scrape, in the format `accept` prefers. */
export const exposition = (accept: string | undefined): Promise<{ readonly contentType: string; readonly body: string }> => {
  const openMetrics = accept !== undefined && accept.includes('application/openmetrics-text');
  const scrape = scraping.then(async () => {
    await runSamplers();
    registry.setContentType(openMetrics ? OPENMETRICS : PROMETHEUS);
    if (!openMetrics) {
      for (const [metric, name] of counterNames) (metric as { name: string }).name = name;
    }
    return { contentType: openMetrics ? OPENMETRICS : PROMETHEUS, body: await registry.metrics() };
  });
  scraping = scrape.catch(() => undefined);
  return scrape;
};
