/**
 * Catch-up then live, as a pull-driven async generator: the next page is read only when the
 * consumer has taken the previous one. Pages grow while catching up and shrink back once live.
 * Between pages at the head it sleeps until a change signal, the poll timer, or the abort signal.
 */
import { ValidationError } from '../../platform/errors.js';
import { EventStoreUnavailableError } from '../errors.js';
import type { SubscribeOptions, SubscriptionMessage } from '../port.js';
import { Waiter } from './change-signal.js';
import type { ChangeSignal } from './change-signal.js';
import { readPage } from './read.js';
import type { Page } from './read.js';
import type { EventStoreDb } from './schema.js';
import { isConnectionError } from './error-mapping.js';

export interface SubscriptionContext {
  readonly db: EventStoreDb;
  readonly changes: ChangeSignal;
  /** Safety-net poll when no change is signalled (a NOTIFY can be lost). */
  readonly pollIntervalMs: number;
  /** Aborts every subscription when the store closes. */
  readonly closing: AbortSignal;
  /** Starts the cross-process wake-ups (LISTEN); never throws. */
  readonly listen: () => Promise<void>;
}

const DEFAULT_BATCH_SIZE = 1_000;
const LIVE_PAGE_SIZE = 100;
/** While committed events wait behind an older running transaction: re-poll soon, backing off. */
const PENDING_FIRST_MS = 2;
const PENDING_MAX_MS = 250;

const dropBackoff = (attempt: number): number => Math.min(5_000, 100 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2);

/** Resolves with the read, or with undefined as soon as `signal` aborts. */
const unlessAborted = <T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> => {
  promise.catch(() => {}); // if we stop waiting for it, its failure concerns nobody
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
};

export async function* subscribe(context: SubscriptionContext, options: SubscribeOptions = {}): AsyncGenerator<SubscriptionMessage> {
  const maxPage = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(maxPage) || maxPage < 1) throw new ValidationError('batchSize', 'must be an integer >= 1');
  const signal = options.signal ? AbortSignal.any([options.signal, context.closing]) : context.closing;
  const livePage = Math.min(LIVE_PAGE_SIZE, maxPage);
  let pageSize = livePage;
  let after = options.after ?? -1n; // everything <= after has been delivered (or never will match)
  let checkpoint = after;
  // Caught up means: everything committed when catch-up began has been delivered. The horizon
  // alone is not enough, as an unrelated long transaction can hold it below older commits.
  let caughtUp = false;
  let target: bigint | undefined;
  let drops = 0;
  let pendingDelay = 0;
  const waiter = new Waiter(context.changes, signal);
  try {
    await context.listen();
    while (!signal.aborted) {
      waiter.reset();
      let page: Page | undefined;
      try {
        page = await unlessAborted(readPage(context.db, after, pageSize, options.filter), signal);
      } catch (error) {
        if (signal.aborted) return;
        if (!isConnectionError(error)) throw error;
        drops += 1;
        yield { kind: 'dropped', error: new EventStoreUnavailableError('The subscription lost its connection.', error), attempt: drops };
        // Resubscribes from `after`, the last position delivered.
        await waiter.wait(dropBackoff(drops), true);
        continue;
      }
      if (!page) return;
      drops = 0;
      target ??= page.tail;
      let delivered = after;
      for (const event of page.events) {
        yield { kind: 'event', event };
        delivered = event.position;
        if (signal.aborted) return;
      }
      // Nothing at or below `next` can still appear or match: resume after it.
      after = page.next;
      if (after > delivered && after > checkpoint) {
        // The checkpoint moved past the last event: tell consumers that filter most events out.
        checkpoint = after;
        yield { kind: 'checkpoint', position: checkpoint };
      }
      if (!page.complete) {
        if (caughtUp) {
          caughtUp = false; // fell behind: catch up again, to what is committed now
          target = page.tail;
        }
        pageSize = Math.min(maxPage, pageSize * 2);
        continue;
      }
      pageSize = livePage;
      if (!caughtUp && after >= target) {
        caughtUp = true;
        yield { kind: 'caught-up', position: after };
      }
      const pending = page.tail >= page.horizon;
      pendingDelay = pending ? Math.min(PENDING_MAX_MS, pendingDelay * 2 || PENDING_FIRST_MS) : 0;
      await waiter.wait(pending ? pendingDelay : context.pollIntervalMs);
    }
  } finally {
    waiter.dispose();
  }
}
