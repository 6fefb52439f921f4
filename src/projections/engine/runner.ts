/**
 * The live runner of one projection. While it leads (see platform/leadership.ts) it follows `$all` from the
 * checkpoint and applies batches; each batch is one transaction that locks the control row, checks
 * that nothing moved underneath (checkpoint, generation, version, state), applies the events and
 * writes the checkpoint. A crash anywhere therefore neither loses nor doubles an effect, and a
 * runner that lost its lease without noticing cannot double-apply: its checkpoint check fails.
 * After commit: in-process waiters, a NOTIFY for other processes, and the change sink.
 */
import type { EventStore } from '../../eventstore/port.js';
import type { DatabaseHandle } from '../../platform/database.js';
import type { ChangeSink, Projection, ProjectionChange } from '../projection.js';
import { initializeProjection, readControl } from './control-store.js';
import { EventFeed, type FeedBatch } from './event-feed.js';
import type { Leadership } from '../../platform/leadership.js';
import { projectionLockKey } from './lock-keys.js';
import { loadBlockedKeys } from './parked-store.js';
import type { ProjectionWatch } from './position-watch.js';
import { projectionMetrics, secondsSince } from '../../platform/metrics.js';
import { linksOf, runInSpan, startSpan, traceIdOf, traceparentIn, tracingEnabled } from '../../platform/tracing.js';
import { commitLiveBatch, type Cursor, type LiveOutcome } from './live-batch.js';
import { sleep } from './transient.js';
import type { EngineLogger, EngineTuning } from './tuning.js';

export interface BatchInfo {
  readonly name: string;
  readonly events: number;
  readonly position: bigint;
  readonly live: boolean;
  readonly parked: number;
  readonly blocked: number;
}

export interface RunnerDeps {
  readonly handle: DatabaseHandle;
  readonly store: EventStore;
  readonly projection: Projection;
  readonly sink: ChangeSink;
  readonly logger: EngineLogger;
  readonly leadership: Leadership;
  readonly watch: ProjectionWatch;
  readonly notify: (name: string, position: bigint) => void;
  readonly tuning: EngineTuning;
  readonly onBatch?: ((info: BatchInfo) => void) | undefined;
}

/** Each change with the trace context of the event at its position (tracing on). */
const withTraceparents = (changes: readonly ProjectionChange[], batch: FeedBatch): readonly ProjectionChange[] => {
  if (changes.length === 0) return changes;
  const byPosition = new Map(batch.events.map((event) => [event.position, traceparentIn(event.metadata)]));
  return changes.map((change) => {
    const traceparent = byPosition.get(change.position);
    return traceparent === undefined ? change : { ...change, traceparent };
  });
};

export class ProjectionRunner {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  leading = false;
  private warnedVersion: number | undefined;
  private publishing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: RunnerDeps) {}

  start(): void {
    projectionMetrics.declare(this.deps.projection.name);
    this.loop ??= this.run();
  }

  /** Finishes the batch in progress (it commits), then stops. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.publishing;
  }

  private async run(): Promise<void> {
    const { leadership, projection, logger, tuning } = this.deps;
    const key = projectionLockKey(projection.name);
    const log = { projection: projection.name };
    while (!this.stopping.signal.aborted) {
      const lease = await leadership.acquire(key, this.stopping.signal);
      if (!lease) break;
      this.leading = true;
      logger.info(log, `projection ${projection.name}: this process is now its active runner`);
      let pauseAfter = 0;
      try {
        const signal = AbortSignal.any([lease, this.stopping.signal]);
        for (;;) {
          const result = await this.lead(signal);
          if (result === 'moved') continue;
          if (result === 'version') pauseAfter = 5 * tuning.idlePollMs;
          break;
        }
      } catch (error) {
        logger.error({ ...log, err: error }, `projection ${projection.name}: runner failed; starting again`);
        pauseAfter = tuning.idlePollMs;
      } finally {
        this.leading = false;
        if (lease.aborted && !this.stopping.signal.aborted) logger.warn(log, `projection ${projection.name}: lost leadership`);
        await leadership.release(key);
      }
      if (pauseAfter > 0) await sleep(pauseAfter, this.stopping.signal);
    }
  }

  /** Leads until stopped, paused, superseded or moved; returns why it stopped leading. */
  private async lead(signal: AbortSignal): Promise<LiveOutcome['kind']> {
    const { handle, store, projection, logger, tuning } = this.deps;
    const row = (await readControl(handle.db, projection.name)) ?? (await initializeProjection(handle.db, projection));
    if (row.version !== projection.version) {
      if (this.warnedVersion === row.version) return 'version';
      this.warnedVersion = row.version;
      logger.warn(
        { projection: projection.name, stored: row.version, code: projection.version },
        row.version < projection.version
          ? `projection ${projection.name}: its tables are version ${row.version} but this code is version ${projection.version}; not applying events. Run: keel projections rebuild ${projection.name}`
          : `projection ${projection.name}: its tables are version ${row.version}, newer than this code (${projection.version}); leaving it to a newer process`,
      );
      return 'version';
    }
    if (row.state === 'paused') return (await this.whilePaused(signal)) ? 'moved' : 'stopped';
    this.deps.watch.observe(projection.name, row.position);
    const cursor: Cursor = {
      position: row.position,
      generation: row.generation,
      parkedVersion: row.parkedVersion,
      blocked: await loadBlockedKeys(handle.db, projection.name, row.generation),
    };
    const feed = new EventFeed({
      store,
      after: row.position,
      filter: { eventTypes: projection.eventTypes },
      maxBatch: tuning.maxBatch,
      onDropped: (error, attempt) => logger.warn({ projection: projection.name, err: error, attempt }, 'subscription dropped; resubscribing'),
    });
    let lastCommitAt = 0;
    try {
      for (;;) {
        let batch = await feed.take(cursor.position, signal);
        if (!batch) return 'stopped';
        const wait = lastCommitAt + tuning.checkpointIntervalMs - Date.now();
        if (batch.events.length === 0 && wait > 0) {
          await sleep(wait, signal);
          batch = (await feed.take(cursor.position, signal)) ?? batch;
        }
        const started = performance.now();
        const outcome = await this.traced(batch, () => commitLiveBatch(this.deps, batch, cursor, signal));
        if (outcome.kind === 'ok') this.measured(batch, started);
        if (outcome.kind === 'paused') return (await this.whilePaused(signal)) ? 'moved' : 'stopped';
        if (outcome.kind !== 'ok') return outcome.kind;
        lastCommitAt = Date.now();
        this.committed(batch, cursor, outcome);
      }
    } finally {
      await feed.close();
    }
  }

  /**
   * With tracing on, the batch runs in a span of its own trace, linked to the traces of the events
   * it applies (their `traceparent`): many flows meet in one batch, so it continues none of them.
   */
  private traced(batch: FeedBatch, commit: () => Promise<LiveOutcome>): Promise<LiveOutcome> {
    if (!tracingEnabled() || batch.events.length === 0) return commit();
    const { projection } = this.deps;
    const span = startSpan(`projection ${projection.name} batch`, {
      links: linksOf(batch.events.map((event) => traceparentIn(event.metadata))),
      attributes: { 'keel.projection': projection.name, 'keel.events': batch.events.length, 'keel.position': batch.position.toString() },
    });
    return runInSpan(span, commit);
  }

  /**
   * A committed batch's metrics: its size and duration, and each event's freshness (from its
   * append to this commit), with the event's trace id as the exemplar. A batch without events (a
   * checkpoint only) is not counted. The position is sampled at scrape time (server/observability.ts).
   */
  private measured(batch: FeedBatch, started: number): void {
    if (batch.events.length === 0) return;
    const { projection } = this.deps;
    const batchMetrics = projectionMetrics.batch(projection.name);
    batchMetrics.duration.observe(secondsSince(started));
    batchMetrics.size.observe(batch.events.length);
    const freshness = projectionMetrics.freshness(projection.name);
    const now = Date.now();
    for (const event of batch.events) {
      freshness.observe(Math.max(0, now - event.createdAt.getTime()) / 1000, tracingEnabled() ? traceIdOf(traceparentIn(event.metadata)) : undefined);
    }
  }

  /** Keeps the lead (so status shows an active runner) until resumed; false if stopped or the lease was lost. */
  private async whilePaused(signal: AbortSignal): Promise<boolean> {
    const { handle, projection, tuning } = this.deps;
    while (!signal.aborted) {
      await sleep(tuning.idlePollMs, signal);
      const row = await readControl(handle.db, projection.name).catch(() => undefined);
      if (row && row.state !== 'paused') return true;
    }
    return false;
  }

  private committed(batch: FeedBatch, cursor: Cursor, outcome: Extract<LiveOutcome, { kind: 'ok' }>): void {
    const { projection, logger, sink } = this.deps;
    cursor.position = batch.position;
    cursor.generation = outcome.generation;
    cursor.parkedVersion = outcome.parkedVersion;
    cursor.blocked = outcome.blocked;
    for (const [key, id] of outcome.applied.newlyParked) cursor.blocked.set(key, id);
    this.deps.watch.observe(projection.name, batch.position);
    this.deps.notify(projection.name, batch.position);
    if (outcome.applied.parked > 0) {
      logger.error({ projection: projection.name, parked: outcome.applied.parked }, `projection ${projection.name}: parked ${outcome.applied.parked} failing event(s); see keel projections parked ${projection.name}`);
    }
    const changes = tracingEnabled() ? withTraceparents(outcome.applied.changes, batch) : outcome.applied.changes;
    if (changes.length > 0) {
      // In commit order, never blocking the next batch; a failure is logged and not retried.
      this.publishing = this.publishing
        .then(() => sink.publish(changes))
        .catch((error: unknown) => logger.warn({ projection: projection.name, err: error }, 'publishing changes failed (cache may be stale until the next change)'));
    }
    this.deps.onBatch?.({
      name: projection.name,
      events: batch.events.length,
      position: batch.position,
      live: batch.live,
      parked: outcome.applied.parked,
      blocked: outcome.applied.blocked,
    });
  }
}
