/**
 * Runs order fulfilment from a subscription to `$all`. Reactions for one order run in sequence,
 * different orders concurrently (bounded). The checkpoint is saved periodically and on stop; after a
 * crash the reactions since the last checkpoint run again, and their commands are idempotent.
 */
import type { Kysely } from 'kysely';
import type { EventStore, RecordedEvent } from '../../eventstore/port.js';
import { isKeelError } from '../../platform/errors.js';
import { migrateToLatest } from '../../platform/database.js';
import { jitteredDelay, sleep } from '../handler/retry.js';
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
 * Failures that say nothing about the step: the event store was unreachable, or the command lost
 * every optimistic-concurrency retry to other writers of the same stream (a hot SKU). The reaction
 * is retried; moving on would lose the step (a reservation never committed, say).
 */
const TRANSIENT: ReadonlySet<string> = new Set(['KEEL_ERR_EVENTSTORE_UNAVAILABLE', 'KEEL_ERR_CONFLICT_RETRIES_EXHAUSTED']);

export interface FulfilmentOptions extends Omit<FulfilmentDeps, 'db'> {
  readonly store: EventStore;
  readonly db: Kysely<unknown>;
  readonly logger: FulfilmentLogger;
  readonly name?: string;
  /** Orders whose reactions may run at once. */
  readonly concurrency?: number;
  readonly checkpointIntervalMs?: number;
  readonly sweepIntervalMs?: number;
  /** Attempts for a reaction failing with an unexpected (not domain) error. */
  readonly maxAttempts?: number;
}

export interface FulfilmentRunner {
  readonly name: string;
  /** Position up to which every reaction has finished. */
  position(): bigint;
  stop(): Promise<void>;
}

export const startFulfilment = async (options: FulfilmentOptions): Promise<FulfilmentRunner> => {
  const name = options.name ?? 'order-fulfilment';
  const concurrency = options.concurrency ?? 64;
  const maxAttempts = options.maxAttempts ?? 8;
  await migrateToLatest(options.db, fulfilmentMigrations, 'fulfilment');
  const db: FulfilmentDb = options.db.withTables<FulfilmentTables>();
  const deps: FulfilmentDeps = { ...options, db };
  const start = (await readCheckpoint(db, name)) ?? 0n;
  const tracker = new CheckpointTracker(start);
  const controller = new AbortController();
  const chains = new Map<string, Promise<void>>();
  let saved = start;
  let running = 0;
  let slotFreed: (() => void) | undefined;

  /**
   * After a step failed for good: cancels the order (its stock is released by the OrderCancelled
   * reaction), retried like a reaction. True once done or given up (logged); false when shutdown
   * interrupted it, so the reaction runs again on the next start.
   */
  const settleFailedStep = async (event: RecordedEvent, failure: unknown): Promise<boolean> => {
    const about = { event: { id: event.id, type: event.type, position: event.position.toString() } };
    for (let attempt = 1; ; attempt++) {
      try {
        if (await cancelAfterFailedStep(deps, event, failure)) options.logger.info(about, 'order cancelled after a failed fulfilment step');
        return true;
      } catch (err) {
        if (controller.signal.aborted) return false;
        if (attempt >= maxAttempts) {
          options.logger.error({ ...about, err }, 'could not cancel the order after a failed fulfilment step');
          return true;
        }
        await sleep(jitteredDelay({ maxRetries: maxAttempts, baseMs: 50, maxMs: 5_000 }, attempt));
      }
    }
  };

  /**
   * Runs the reaction; true once it is handled (done, refused by the domain, or given up after
   * `maxAttempts`), false when shutdown interrupted its retries: its position must then not be
   * checkpointed, so the next start runs it again (its commands are idempotent).
   */
  const reactWithRetry = async (event: RecordedEvent): Promise<boolean> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await react(deps, event);
        return true;
      } catch (error) {
        const context = { event: { id: event.id, type: event.type, position: event.position.toString() }, attempt, err: error };
        if (isKeelError(error) && !TRANSIENT.has(error.code)) {
          options.logger.warn(context, 'fulfilment step refused for good; cancelling the order');
          return settleFailedStep(event, error);
        }
        if (controller.signal.aborted) {
          options.logger.warn(context, 'fulfilment reaction interrupted by shutdown; it runs again on the next start');
          return false;
        }
        if (attempt >= maxAttempts) {
          options.logger.error(context, 'fulfilment reaction failed; giving up on this event and cancelling the order');
          return settleFailedStep(event, error);
        }
        await sleep(jitteredDelay({ maxRetries: maxAttempts, baseMs: 50, maxMs: 5_000 }, attempt));
      }
    }
  };

  const dispatch = (event: RecordedEvent): void => {
    const key = sequenceKeyOf(event);
    const ticket = tracker.begin(event.position);
    running++;
    const previous = chains.get(key) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (await reactWithRetry(event)) ticket.done();
    }).finally(() => {
      running--;
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
    const subscription = options.store.subscribe({
      after: start,
      filter: { eventTypes: FULFILMENT_EVENT_TYPES },
      signal: controller.signal,
    });
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
  })();

  // One timer tick at a time; stop() waits for the one in progress.
  let tick: Promise<unknown> = Promise.resolve();
  const every = (ms: number, work: () => Promise<unknown>, failure: string) =>
    setInterval(() => {
      tick = tick.then(work).catch((err: unknown) => options.logger.warn({ err }, failure));
    }, ms);
  const checkpointTimer = every(options.checkpointIntervalMs ?? 200, flush, 'could not save the fulfilment checkpoint');
  const sweepTimer = every(options.sweepIntervalMs ?? 5_000, () => expireDueOrders(deps, name), 'expiry sweep failed');

  return {
    name,
    position: () => tracker.position,
    async stop() {
      controller.abort();
      clearInterval(checkpointTimer);
      clearInterval(sweepTimer);
      await tick;
      await loop.catch((err: unknown) => options.logger.warn({ err }, 'fulfilment subscription ended with an error'));
      await Promise.allSettled([...chains.values()]);
      await flush();
    },
  };
};
