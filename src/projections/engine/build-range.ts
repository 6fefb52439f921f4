/**
 * Applies the projection's events in (after, upTo] to a build schema, in big transactions, reading
 * the next batch while the current one is written. Used by the rebuild's catch-up (and, with a
 * caller's transaction, for the last stretch inside the swap).
 */
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { EventStore, RecordedEvent } from '../../eventstore/port.js';
import { applyBatch, type BatchScope } from './batch-apply.js';
import { backoffMs, isTransientError, sleep } from './transient.js';

export interface BuildState {
  /** Blocked keys of the build generation (key → parked row id). */
  readonly blocked: Map<string, string>;
  events: number;
  parked: number;
}

/** Matching events in (after, upTo], in batches of up to `size`; a subscription, for its growing pages. */
async function* batchesOf(store: EventStore, scope: BatchScope, after: bigint, upTo: bigint, size: number): AsyncGenerator<RecordedEvent[]> {
  if (after >= upTo) return;
  const controller = new AbortController();
  let batch: RecordedEvent[] = [];
  try {
    for await (const message of store.subscribe({ after, filter: { eventTypes: scope.projection.eventTypes }, batchSize: size, signal: controller.signal })) {
      if (message.kind === 'event') {
        if (message.event.position > upTo) break;
        batch.push(message.event);
        if (message.event.position === upTo) break;
        if (batch.length >= size) {
          yield batch;
          batch = [];
        }
      } else if (message.kind !== 'dropped' && message.position >= upTo) {
        break;
      }
    }
  } finally {
    controller.abort();
  }
  if (batch.length > 0) yield batch;
}

const applyInto = async (trx: Transaction<unknown>, scope: BatchScope, events: readonly RecordedEvent[], state: BuildState, isolate: number | undefined) => {
  const applied = await applyBatch(trx, scope, events, state.blocked, isolate === undefined ? undefined : { attempts: isolate });
  return applied;
};

/** One batch in its own transaction, retried, then isolated (failures parked in the build generation). */
const commitBatch = async (db: Kysely<unknown>, scope: BatchScope, events: RecordedEvent[], state: BuildState, maxAttempts: number, signal?: AbortSignal) => {
  let attempts = 0;
  let transient = 0;
  for (;;) {
    const isolate = attempts >= maxAttempts ? attempts : undefined;
    try {
      const applied = await db.transaction().execute((trx) => applyInto(trx, scope, events, state, isolate));
      for (const [key, id] of applied.newlyParked) state.blocked.set(key, id);
      state.parked += applied.parked;
      state.events += events.length;
      return;
    } catch (error) {
      if (signal?.aborted) throw error;
      if (isTransientError(error) && transient < 10) transient += 1;
      else if (isolate === undefined) attempts += 1;
      else throw error;
      await sleep(backoffMs(Math.max(attempts, transient), 100), signal);
    }
  }
};

export const buildRange = async (
  db: Kysely<unknown>,
  store: EventStore,
  scope: BatchScope,
  range: { readonly after: bigint; readonly upTo: bigint },
  state: BuildState,
  options: { readonly maxBatch: number; readonly maxAttempts: number; readonly signal?: AbortSignal; readonly onBatch?: (first: bigint, last: bigint) => void },
): Promise<void> => {
  const iterator = batchesOf(store, scope, range.after, range.upTo, options.maxBatch);
  let next = iterator.next();
  for (;;) {
    const current = await next;
    if (current.done === true) return;
    next = iterator.next(); // read ahead while this batch is written
    next.catch(() => {});
    await commitBatch(db, scope, current.value, state, options.maxAttempts, options.signal);
    const [head] = current.value;
    const last = current.value.at(-1);
    if (head && last) options.onBatch?.(head.position, last.position);
    if (options.signal?.aborted) {
      await iterator.return(undefined);
      throw options.signal.reason instanceof Error ? options.signal.reason : new Error('rebuild aborted');
    }
  }
};

/** The matching events in (after, upTo], in memory (the last stretch before a swap is short). */
export const collectRange = async (store: EventStore, scope: BatchScope, range: { readonly after: bigint; readonly upTo: bigint }): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const batch of batchesOf(store, scope, range.after, range.upTo, 5_000)) events.push(...batch);
  return events;
};

/** Applies the last stretch inside the swap transaction: under a savepoint, isolated on failure. */
export const applyTail = async (trx: Transaction<unknown>, scope: BatchScope, events: readonly RecordedEvent[], state: BuildState): Promise<void> => {
  for (let from = 0; from < events.length; from += 5_000) {
    const slice = events.slice(from, from + 5_000);
    await sql`savepoint keel_tail`.execute(trx);
    let applied;
    try {
      applied = await applyInto(trx, scope, slice, state, undefined);
      await sql`release savepoint keel_tail`.execute(trx);
    } catch (error) {
      if (isTransientError(error)) throw error;
      await sql`rollback to savepoint keel_tail`.execute(trx);
      applied = await applyInto(trx, scope, slice, state, 1);
    }
    for (const [key, id] of applied.newlyParked) state.blocked.set(key, id);
    state.parked += applied.parked;
    state.events += slice.length;
  }
};
