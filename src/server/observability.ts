/**
 * What the composition root adds for operators: the process's identity on every series and the
 * tracer (OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set), the projection and horizon gauges read at
 * scrape time, and the projector role's own listener (PROJECTOR_PORT: /health, /ready, /metrics).
 */
import { createRequire } from 'node:module';
import { buildApp } from '../api/app.js';
import { probeAll } from '../api/health.js';
import type { EventStore } from '../eventstore/port.js';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { describeProcess, metrics, onScrape } from '../platform/metrics.js';
import { redisProbe } from '../platform/redis.js';
import { startTracing } from '../platform/tracing.js';
import type { Projections } from '../projections/engine/index.js';
import type { Closers } from './lifecycle.js';
import { storeProbes, type Stores } from './stores.js';

/** package.json's version (dist/server and src/server are both two levels below it). */
export const KEEL_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** `role` on every series and keel_build_info; the tracer when configured, flushed on close. */
export const startObservability = async (config: Config, role: string, closers: Closers): Promise<void> => {
  describeProcess(role, KEEL_VERSION);
  const tracing = await startTracing({ endpoint: config.otelExporterOtlpEndpoint, serviceName: config.otelServiceName, role, version: KEEL_VERSION });
  closers.add('the tracer', () => tracing.flush());
};

/**
 * The projection gauges (position, lag, oldest unprojected age, parked, leader) and the horizon's,
 * from the projections' status at each scrape. Returns the sampler's removal.
 */
export const sampleProjections = (projections: Projections, store: EventStore): (() => void) =>
  onScrape(async () => {
    const [statuses, age] = await Promise.all([projections.status(), store.horizonAge?.()]);
    const leading = new Set(projections.leading());
    let stall = null;
    for (const status of statuses) {
      const labels = { projection: status.name };
      metrics.projectionPosition.set(labels, Number(status.position));
      metrics.projectionLagEvents.set(labels, status.lagEvents);
      metrics.projectionOldestAge.set(labels, status.lagSeconds);
      metrics.projectionParked.set(labels, status.parked);
      metrics.projectionLeader.set(labels, leading.has(status.name) ? 1 : 0);
      stall ??= status.stalledBy;
    }
    if (age === undefined) return;
    metrics.horizonAge.set(age);
    metrics.horizonWaiting.set(stall?.waitingSeconds ?? 0);
    // Only the holder of now: a series per past holder would stay until the process restarts.
    metrics.horizonHolder.reset();
    if (stall !== null && stall !== undefined) {
      metrics.horizonHolder.set(
        { pid: String(stall.pid ?? stall.preparedGid ?? ''), database: stall.database ?? '', application: stall.application ?? '', state: stall.state ?? '' },
        stall.ageSeconds ?? 0,
      );
    }
  });

/**
 * The projector role's listener on PROJECTOR_PORT: /health (database and event store answer),
 * /ready (the same and Redis) and /metrics; no GraphQL. Returns its URL.
 */
export const startProjectorListener = async (config: Config, logger: Logger, stores: Stores, closers: Closers): Promise<string> => {
  const alive = storeProbes(stores);
  const redis = config.redisUrl === undefined ? undefined : redisProbe(config.redisUrl);
  if (redis !== undefined) closers.add('the Redis probe', () => redis.close());
  const app = buildApp({
    logger,
    trustProxy: config.trustProxy,
    health: () => probeAll(alive),
    ready: () => probeAll({ ...alive, ...(redis === undefined ? {} : { redis: redis.ping }) }),
  });
  closers.add('the projector listener', () => app.close());
  return app.listen({ port: config.projectorPort, host: config.host });
};
