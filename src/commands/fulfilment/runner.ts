/**
 * Runs order fulfilment from a subscription to `$all`. Reactions for one order run in sequence,
 * different orders concurrently (bounded). The checkpoint is saved periodically and on stop; after a
 * crash the reactions since the last checkpoint run again, and their commands are idempotent. With
 * a leadership, one process runs the reactions and the expiry sweep; the others stand by.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { EventStore, RecordedEvent } from '../../eventstore/port.js';
import { isKeelError } from '../../platform/errors.js';
import { migrateToLatest } from '../../platform/database.js';
import type { Leadership } from '../../platform/leadership.js';
import { metrics } from '../../platform/metrics.js';
import { contextOf, inSpan, traceparentIn } from '../../platform/tracing.js';
import { jitteredDelay } from '../handler/retry.js';
import { CheckpointTracker } from './checkpoint-tracker.js';
import { cancelAfterFailedStep, FULFILMENT_EVENT_TYPES, sequenceKeyOf, react, type FulfilmentDeps } from './reactions.js';
import { expireDueOrders } from './sweeper.js';
import { fulfilmentMigrations, readCheckpoint, writeCheckpoint, type FulfilmentDb, type FulfilmentTables } from './store.js';

export interface FulfilmentLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Failures that say nothing about the step: the event store was unreachable, the command lost
 * every optimistic-concurrency retry to other writers of the same stream (a hot SKU), or the
 * payment provider did not answer. The reaction is retried; moving on would lose the step (a
 * reservation never committed, say).
 */
const TRANSIENT: ReadonlySet<string> = new Set([
  'KEEL_ERR_EVENTSTORE_UNAVAILABLE',
  'KEEL_ERR_CONFLICT_RETRIES_EXHAUSTED',
  'KEEL_ERR_PAYMENT_PROVIDER_UNAVAILABLE',
]);

/**
 * Transient failures retried past `maxAttempts`, until they pass or shutdown: a provider that did
 * not answer may have charged, and only asking again with the same key tells. The order is not
 * cancelled for it; its deadline is (the sweeper), and a late authorization is then refunded.
 */
const RETRIED_WITHOUT_LIMIT: ReadonlySet<string> = new Set(['KEEL_ERR_PAYMENT_PROVIDER_UNAVAILABLE']);

export interface FulfilmentOptions extends Omit<FulfilmentDeps, 'db' | 'signal'> {
  readonly store: EventStore;
  readonly db: Kysely<unknown>;
  readonly logger: FulfilmentLogger;
  readonly name?: string;
  /** Orders whose reactions may run at once. */
  readonly concurrency?: number;
  readonly checkpointIntervalMs?: number;
  readonly sweepIntervalMs?: number;
  /**
   * Attempts for a reaction failing with an unexpected (not domain) or transient error; a payment
   * provider that does not answer is retried without limit.
   */
  readonly maxAttempts?: number;
  /**
   * Elects the one process that runs the reactions (the others stand by and take over when it
   * dies). Without it this process always runs them: one process only.
   */
  readonly leadership?: Leadership;
}

export interface FulfilmentRunner {
  readonly name: string;
  /** Position up to which every reaction has finished (the stored checkpoint while standing by). */
  position(): bigint;
  /** Whether this process runs the reactions now (false while another process leads). */
  leading(): boolean;
  stop(): Promise<void>;
}

/** What a reaction's log lines say of its event; the correlation id ties them to the flow it belongs to. */
const eventLogFields = (event: RecordedEvent) => ({
  id: event.id,
  type: event.type,
  position: event.position.toString(),
  correlationId: event.metadata.correlationId,
});

/** The leadership key of a process manager: one process runs its reactions at a time. */
export const fulfilmentLockKey = (name: string): string => `process:${name}`;

/** One period of leadership: from the stored checkpoint, until `signal` aborts. */
interface Term {
  position(): bigint;
  /** Resolves once the subscription ended, the reactions in flight settled and the checkpoint was saved. */
  readonly ended: Promise<void>;
}

export const startFulfilment = async (options: FulfilmentOptions): Promise<FulfilmentRunner> => {
  const name = options.name ?? 'order-fulfilment';
  const concurrency = options.concurrency ?? 64;
  const pending = metrics.pendingReactions.labels(name);
  const reactions = { ok: metrics.reactions.labels(name, 'ok'), error: metrics.reactions.labels(name, 'error') };
  const maxAttempts = options.maxAttempts ?? 8;
  await migrateToLatest(options.db, fulfilmentMigrations, 'fulfilment');
  const db: FulfilmentDb = options.db.withTables<FulfilmentTables>();
  const controller = new AbortController();
  let standbyPosition = (await readCheckpoint(db, name)) ?? 0n;

  const startTerm = (start: bigint, outer: AbortSignal): Term => {
    // The term also ends when its subscription ends by itself (it resubscribes after drops, so
    // only an unexpected error does that): the next term starts again from the checkpoint.
    const own = new AbortController();
    const signal = AbortSignal.any([outer, own.signal]);
    const deps: FulfilmentDeps = { ...options, db, signal };
    const tracker = new CheckpointTracker(start);
    const chains = new Map<string, Promise<void>>();
    let saved = start;
    let running = 0;
    let slotFreed: (() => void) | undefined;

    /** The backoff before retry `attempt + 1`, cut short when the term ends. */
    const backoff = (attempt: number): Promise<void> =>
      delay(jitteredDelay({ maxRetries: maxAttempts, baseMs: 50, maxMs: 5_000 }, attempt), undefined, { signal }).catch(() => undefined);

    /**
     * After a step failed for good: cancels the order (its stock is released by the OrderCancelled
     * reaction), retried like a reaction. True once done or given up (logged); false when the term
     * ended first, so the reaction runs again from the checkpoint.
     */
    const settleFailedStep = async (event: RecordedEvent, failure: unknown): Promise<boolean> => {
      const about = { event: eventLogFields(event) };
      for (let attempt = 1; ; attempt++) {
        try {
          if (await cancelAfterFailedStep(deps, event, failure)) options.logger.info(about, 'order cancelled after a failed fulfilment step');
          return true;
        } catch (err) {
          if (signal.aborted) return false;
          if (attempt >= maxAttempts) {
            options.logger.error({ ...about, err }, 'could not cancel the order after a failed fulfilment step');
            return true;
          }
          await backoff(attempt);
        }
      }
    };

    /**
     * Runs the reaction; true once it is handled (done, refused by the domain, or given up after
     * `maxAttempts`), false when the term ended during its retries: its position must then not be
     * checkpointed, so whoever runs next runs it again (its commands are idempotent).
     */
    const reactWithRetry = async (event: RecordedEvent): Promise<boolean> => {
      for (let attempt = 1; ; attempt++) {
        try {
          await inSpan(`react ${event.type}`, { parent: contextOf(traceparentIn(event.metadata)), attributes: { 'keel.process': name, 'keel.position': event.position.toString() } }, (span) => react(deps, event, span));
          reactions.ok.inc();
          return true;
        } catch (error) {
          reactions.error.inc();
          const context = { event: eventLogFields(event), attempt, err: error };
          if (isKeelError(error) && !TRANSIENT.has(error.code)) {
            options.logger.warn(context, 'fulfilment step refused for good; cancelling the order');
            return settleFailedStep(event, error);
          }
          if (signal.aborted) {
            options.logger.warn(context, 'fulfilment reaction interrupted (shutdown or lost leadership); it runs again from the checkpoint');
            return false;
          }
          const unlimited = isKeelError(error) && RETRIED_WITHOUT_LIMIT.has(error.code);
          if (unlimited && attempt % maxAttempts === 0) {
            options.logger.warn(context, 'fulfilment step still failing for a transient reason; retrying until it passes (the order expires at its deadline)');
          } else if (!unlimited && attempt >= maxAttempts) {
            options.logger.error(context, 'fulfilment reaction failed; giving up on this event and cancelling the order');
            return settleFailedStep(event, error);
          }
          await backoff(attempt);
        }
      }
    };

    const dispatch = (event: RecordedEvent): void => {
      const key = sequenceKeyOf(event);
      const ticket = tracker.begin(event.position);
      running++;
      pending.inc();
      const previous = chains.get(key) ?? Promise.resolve();
      const next = previous
        .then(async () => {
          if (await reactWithRetry(event)) ticket.done();
        })
        .finally(() => {
          running--;
          pending.dec();
          if (chains.get(key) === next) chains.delete(key);
          slotFreed?.();
        });
      chains.set(key, next);
    };

    const flush = async (): Promise<void> => {
      const position = tracker.position;
      if (position === saved) return;
      await writeCheckpoint(db, name, position);
      saved = position;
    };

    const loop = (async () => {
      const subscription = options.store.subscribe({ after: start, filter: { eventTypes: FULFILMENT_EVENT_TYPES }, signal });
      for await (const message of subscription) {
        if (message.kind === 'event') {
          while (running >= concurrency) await new Promise<void>((resolve) => (slotFreed = resolve));
          dispatch(message.event);
        } else if (message.kind === 'checkpoint' || message.kind === 'caught-up') {
          tracker.mark(message.position);
        } else {
          options.logger.warn({ err: message.error, attempt: message.attempt }, 'fulfilment subscription dropped; resubscribing');
        }
      }
    })().then(
      () => {
        if (!signal.aborted) options.logger.error({ process: name }, 'fulfilment subscription ended; starting again from the checkpoint');
      },
      (err: unknown) => {
        if (!signal.aborted) options.logger.error({ err, process: name }, 'fulfilment subscription failed; starting again from the checkpoint');
      },
    ).finally(() => own.abort());

    // One timer tick at a time; the end of the term waits for the one in progress.
    let tick: Promise<unknown> = Promise.resolve();
    const every = (ms: number, work: () => Promise<unknown>, failure: string) =>
      setInterval(() => {
        tick = tick.then(work).catch((err: unknown) => options.logger.warn({ err }, failure));
      }, ms);
    const checkpointTimer = every(options.checkpointIntervalMs ?? 200, flush, 'could not save the fulfilment checkpoint');
    const sweepTimer = every(options.sweepIntervalMs ?? 5_000, () => expireDueOrders(deps, name), 'expiry sweep failed');
    const ended = (async () => {
      await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
      clearInterval(checkpointTimer);
      clearInterval(sweepTimer);
      await tick;
      await loop;
      await Promise.allSettled([...chains.values()]);
      // Only finished reactions are below the tracker's position: saving it is safe even after
      // another process took over (at worst it runs a few reactions again).
      await flush().catch((err: unknown) => options.logger.warn({ err }, 'could not save the fulfilment checkpoint'));
    })();
    return { position: () => tracker.position, ended };
  };

  let term: Term | undefined;
  const key = fulfilmentLockKey(name);
  const main = (async () => {
    while (!controller.signal.aborted) {
      const lease = options.leadership === undefined ? controller.signal : await options.leadership.acquire(key, controller.signal);
      if (lease === undefined || controller.signal.aborted) break;
      const signal = AbortSignal.any([controller.signal, lease]);
      try {
        const start = (await readCheckpoint(db, name)) ?? 0n;
        if (options.leadership !== undefined) options.logger.info({ process: name, from: start.toString() }, 'process manager leading');
        term = startTerm(start, signal);
        await term.ended;
        standbyPosition = term.position();
      } catch (err) {
        // The checkpoint could not be read (the database is restarting, say): try again.
        options.logger.warn({ err, process: name }, 'process manager could not start its reactions; retrying');
      } finally {
        term = undefined;
        await options.leadership?.release(key);
      }
      if (controller.signal.aborted) break;
      options.logger.warn({ process: name, leadershipLost: lease.aborted }, 'process manager stopped its reactions; standing by');
      await delay(1_000, undefined, { signal: controller.signal }).catch(() => undefined);
    }
  })();

  return {
    name,
    position: () => term?.position() ?? standbyPosition,
    leading: () => term !== undefined,
    async stop() {
      controller.abort();
      await main;
    },
  };
};
