import { LRUCache } from 'lru-cache';
import { DuplicateEventIdError, WrongExpectedRevisionError } from '../../eventstore/errors.js';
import type { EventStore } from '../../eventstore/port.js';
import { KeelError } from '../../platform/errors.js';
import { commandMetrics, secondsSince } from '../../platform/metrics.js';
import { contextOfSpan, endSpan, linksOf, runInSpan, sampledTraceId, startSpan, tracingEnabled, traceparentOf } from '../../platform/tracing.js';
import { advanceSnapshot, decideBatch, idempotencyKeyReused, type DecidedBatch, type Job } from './batch.js';
import { defaultBackoff, jitteredDelay, sleep, type BackoffPolicy } from './retry.js';
import { loadStream, type MutableSnapshot } from './stream-loader.js';
import type { Aggregate, CommandContext, CommandResult, DomainEventShape } from './types.js';

export interface CommandHandlerOptions {
  readonly backoff?: BackoffPolicy;
  /** Streams whose folded state is kept in memory (least recently used are dropped). */
  readonly cacheSize?: number;
  /** Most commands of one stream decided together and written in one append. */
  readonly maxBatch?: number;
  readonly random?: () => number;
}

export interface HandlerStats {
  readonly commands: number;
  readonly batches: number;
  readonly appends: number;
  /** Appends refused for a wrong expected revision and retried (writers in other processes). */
  readonly conflicts: number;
}

export interface CommandHandler {
  handle<C, E extends DomainEventShape, S>(
    aggregate: Aggregate<C, E, S>,
    streamId: string,
    command: C,
    context: CommandContext,
  ): Promise<CommandResult<E, S>>;
  /**
   * The stream's state as this handler last saw it (cached), or read from the store when not cached
   * or when `fresh` is set. A cached state misses writes of other processes: decide nothing on it
   * that a command's expected revision does not re-check.
   */
  load<C, E extends DomainEventShape, S>(
    aggregate: Aggregate<C, E, S>,
    streamId: string,
    options?: { readonly fresh?: boolean },
  ): Promise<StreamState<S>>;
  stats(): HandlerStats;
}

export interface StreamState<S> {
  readonly state: S;
  /** -1n when the stream does not exist. */
  readonly revision: bigint;
}

/**
 * load → decide → append with the revision read; a conflict reloads and retries with jittered
 * backoff, a bounded number of times. Commands for one stream queue up in this process and are
 * decided in sequence against one state; their events go out in ONE append and each caller gets
 * its own result or its own error, so a hot stream costs one append per batch, not a conflict storm.
 * The folded state stays cached per stream: a stream this process just wrote is not read again
 * (if another process wrote meanwhile, the expected revision fails and the stream is reloaded).
 */
export const createCommandHandler = (store: EventStore, options: CommandHandlerOptions = {}): CommandHandler => {
  const backoff = options.backoff ?? defaultBackoff;
  const maxBatch = options.maxBatch ?? 500;
  const random = options.random ?? Math.random;
  const cache = new LRUCache<string, MutableSnapshot<unknown>>({ max: options.cacheSize ?? 10_000 });
  const queues = new Map<string, Job[]>();
  const stats = { commands: 0, batches: 0, appends: 0, conflicts: 0 };

  const snapshotOf = async (aggregate: Job['aggregate'], streamId: string): Promise<MutableSnapshot<unknown>> => {
    const cached = cache.get(streamId);
    if (cached) return cached;
    const loaded = await loadStream(store, aggregate, streamId);
    cache.set(streamId, loaded);
    return loaded;
  };

  /**
   * A read of the stream from the store. Concurrent fresh reads of one stream share one read (a
   * flash sale prices every order from the same product stream). The result replaces the cached
   * state unless a batch of this stream is deciding on it, or the cache already holds a newer one.
   */
  const freshLoads = new Map<string, Promise<MutableSnapshot<unknown>>>();
  const freshSnapshotOf = (aggregate: Job['aggregate'], streamId: string): Promise<MutableSnapshot<unknown>> => {
    const pending = freshLoads.get(streamId);
    if (pending) return pending;
    const load = loadStream(store, aggregate, streamId)
      .then((loaded) => {
        const cached = cache.get(streamId);
        if (!queues.has(streamId) && (cached === undefined || cached.revision <= loaded.revision)) cache.set(streamId, loaded);
        return loaded;
      })
      .finally(() => freshLoads.delete(streamId));
    freshLoads.set(streamId, load);
    return load;
  };

  const settle = async (
    streamId: string,
    jobs: readonly Job[],
    batch: DecidedBatch,
    snapshot: MutableSnapshot<unknown>,
    baseRevision: bigint,
  ): Promise<void> => {
    const results: CommandResult<DomainEventShape, unknown>[] = [];
    for (const [index, outcome] of batch.outcomes.entries()) {
      const job = jobs[index];
      if (!job) continue;
      if (outcome.kind === 'error') {
        job.reject(outcome.error);
        continue;
      }
      let result: CommandResult<DomainEventShape, unknown> | undefined;
      if (outcome.kind === 'same-as') result = results[outcome.index];
      else if (outcome.kind === 'decided') {
        const revision = outcome.events.length === 0
          ? snapshot.revision
          : baseRevision + BigInt(outcome.offset + outcome.events.length);
        result = { streamId, revision, position: snapshot.position, events: outcome.events, state: snapshot.state, duplicate: false };
      } else {
        try {
          const events: DomainEventShape[] = [];
          const range = { fromRevision: outcome.firstRevision, maxCount: outcome.count };
          for await (const stored of store.readStream(streamId, range)) events.push(job.aggregate.fromStored(stored));
          const revision = outcome.firstRevision + BigInt(outcome.count - 1);
          result = { streamId, revision, position: outcome.position, events, state: snapshot.state, duplicate: true };
        } catch (error) {
          job.reject(error);
          continue;
        }
      }
      if (result) {
        results[index] = result;
        job.resolve(result);
      } else {
        job.reject(new KeelError('KEEL_ERR_DUPLICATE_EVENT_ID', 'The first send of this command id failed; nothing was written.'));
      }
    }
  };

  /**
   * With tracing on, the append runs in a span of its own: a child of the batch's first command,
   * linked to the others it carries.
   */
  const appendTraced = <T>(streamId: string, jobs: readonly Job[], append: () => Promise<T>): Promise<T> => {
    if (!tracingEnabled()) return append();
    const [first, ...others] = jobs;
    const span = startSpan('append', {
      ...(first?.span === undefined ? {} : { parent: contextOfSpan(first.span) }),
      links: linksOf(others.map((job) => job.traceparent)),
      attributes: { 'keel.stream': streamId, 'keel.commands': jobs.length },
    });
    return runInSpan(span, append);
  };

  const runBatch = async (streamId: string, jobs: readonly Job[]): Promise<void> => {
    stats.batches++;
    const aggregate = jobs[0]?.aggregate;
    if (!aggregate) return;
    commandMetrics.batchSize(aggregate.name).observe(jobs.length);
    for (let attempt = 0; attempt <= backoff.maxRetries; attempt++) {
      if (attempt > 0) commandMetrics.retries(aggregate.name).inc();
      let snapshot: MutableSnapshot<unknown>;
      try {
        snapshot = await snapshotOf(aggregate, streamId);
      } catch (error) {
        for (const job of jobs) job.reject(error);
        return;
      }
      const batch = decideBatch(jobs, snapshot);
      if (batch.toAppend.length === 0) return settle(streamId, jobs, batch, snapshot, snapshot.revision);
      try {
        const expectedRevision = snapshot.revision < 0n ? 'no_stream' : snapshot.revision;
        const appended = await appendTraced(streamId, jobs, () => store.append(streamId, batch.toAppend, { expectedRevision }));
        stats.appends++;
        const base = advanceSnapshot(snapshot, jobs, batch, appended);
        return settle(streamId, jobs, batch, snapshot, base);
      } catch (error) {
        cache.delete(streamId);
        if (!(error instanceof WrongExpectedRevisionError)) {
          // One caller's bad command must not fail the others it was batched with: each alone.
          if (jobs.length > 1) {
            for (const job of jobs) await runBatch(streamId, [job]);
            return;
          }
          // An event id stored elsewhere: the command id (the client's key) was used for another request.
          const refused = error instanceof DuplicateEventIdError ? idempotencyKeyReused() : error;
          for (const job of jobs) job.reject(refused);
          return;
        }
        stats.conflicts++;
        commandMetrics.conflicts(aggregate.name).inc();
        await sleep(jitteredDelay(backoff, attempt, random));
      }
    }
    const attempts = backoff.maxRetries + 1;
    const exhausted = new KeelError(
      'KEEL_ERR_CONFLICT_RETRIES_EXHAUSTED',
      `Stream "${streamId}" kept changing during ${attempts} attempts; try again.`,
      { streamId, attempts },
    );
    for (const job of jobs) job.reject(exhausted);
  };

  const drain = async (streamId: string): Promise<void> => {
    for (let queue = queues.get(streamId); queue && queue.length > 0; queue = queues.get(streamId)) {
      await runBatch(streamId, queue.splice(0, maxBatch));
    }
    queues.delete(streamId);
  };

  return {
    handle<C, E extends DomainEventShape, S>(
      aggregate: Aggregate<C, E, S>,
      streamId: string,
      command: C,
      context: CommandContext,
    ): Promise<CommandResult<E, S>> {
      stats.commands++;
      const started = performance.now();
      const outcomeOf = commandMetrics.outcome(aggregate.name);
      const duration = commandMetrics.duration(aggregate.name);
      const span = tracingEnabled()
        ? startSpan(`command ${aggregate.name}`, {
            attributes: { 'keel.stream': streamId, 'keel.command_id': context.commandId },
            ...(context.parentSpan === undefined ? {} : { parent: contextOfSpan(context.parentSpan) }),
          })
        : undefined;
      return new Promise<CommandResult<E, S>>((resolve, reject) => {
        const job: Job = {
          aggregate: eraseTypes(aggregate),
          command,
          context,
          span,
          traceparent: traceparentOf(span),
          resolve: (result) => {
            outcomeOf('ok');
            duration.observe(secondsSince(started), sampledTraceId(span));
            endSpan(span);
            resolve(result as CommandResult<E, S>);
          },
          reject: (error) => {
            outcomeOf(outcomeOfError(error));
            duration.observe(secondsSince(started), sampledTraceId(span));
            endSpan(span, error);
            reject(error);
          },
        };
        const queue = queues.get(streamId);
        if (queue) {
          queue.push(job);
          return;
        }
        queues.set(streamId, [job]);
        void drain(streamId);
      });
    },
    async load<C, E extends DomainEventShape, S>(
      aggregate: Aggregate<C, E, S>,
      streamId: string,
      options: { readonly fresh?: boolean } = {},
    ): Promise<StreamState<S>> {
      const snapshot = options.fresh === true ? await freshSnapshotOf(eraseTypes(aggregate), streamId) : await snapshotOf(eraseTypes(aggregate), streamId);
      return { state: snapshot.state as S, revision: snapshot.revision };
    },
    stats: () => ({ ...stats }),
  };
};

/**
 * A refusal's outcome for keel_commands_total: a domain rule (a coded KeelError) is `rejected`;
 * retries exhausted is `conflict`; an unreachable store or anything uncoded is `error`.
 */
const outcomeOfError = (error: unknown): 'rejected' | 'conflict' | 'error' => {
  if (!(error instanceof KeelError)) return 'error';
  if (error.code === 'KEEL_ERR_CONFLICT_RETRIES_EXHAUSTED') return 'conflict';
  return error.code.endsWith('_UNAVAILABLE') ? 'error' : 'rejected';
};

/** The queue holds jobs of any aggregate; each job only ever meets its own aggregate's values. */
const eraseTypes = <C, E extends DomainEventShape, S>(aggregate: Aggregate<C, E, S>): Job['aggregate'] =>
  aggregate as Aggregate<unknown, DomainEventShape, unknown>;
