/**
 * `subscribe` on EventStoreDB: a `$all` subscription from the last delivered position, with the
 * event-type filter on the server, caught-up and checkpoint messages, resubscription after a drop
 * and an idle watchdog.
 *
 * Watchdog: an idle EventStoreDB sends nothing, so silence alone proves nothing. After
 * `idleTimeoutMs` without a message the subscription reads a bounded page of `$all` after its last
 * position. If nothing there matches, it is healthy: the page's end becomes a checkpoint (the
 * server checkpoints only every 32 events examined, so a quiet filtered subscription would never
 * move otherwise). If a matching event is still there after a second idle period, the
 * subscription has stalled: it is dropped and resubscribed from the last delivered position.
 *
 * The same probe runs when the server reports caught-up, so the caught-up position covers the
 * unmatched events after the last delivered one.
 *
 * Delivery never repeats or skips: `last` only moves forwards, nothing at or below it is yielded,
 * and every resubscription starts right after it.
 */
import { ValidationError } from '../../platform/errors.js';
import { EventStoreUnavailableError } from '../errors.js';
import type { SubscribeOptions, SubscriptionMessage } from '../port.js';
import type { EventStoreDBClient } from '@eventstore/db-client';
import { isSystemEvent, toRecordedEvent } from './encoding.js';
import { isTransient, mapReadError, unavailable } from './error-mapping.js';
import { Feed } from './feed.js';
import { matchesFilter } from './filter.js';
import { BEFORE_START, positionOf } from './positions.js';
import { allPage } from './read.js';

export interface SubscriptionSettings {
  /** Silence after which the watchdog probes the store (ms). */
  readonly idleTimeoutMs: number;
  /** Resubscription backoff: base and cap (ms), jittered. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

export interface SubscriptionContext extends SubscriptionSettings {
  readonly client: EventStoreDBClient;
  /** Aborts every subscription when the store closes. */
  readonly closing: AbortSignal;
}

const DEFAULT_BATCH_SIZE = 1_000;
/** Events the watchdog examines per probe. */
const PROBE_LIMIT = 100;

const backoff = (settings: SubscriptionSettings, attempt: number): number =>
  Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** Math.min(attempt - 1, 10)) * (0.5 + Math.random() / 2);

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

type Probe = { readonly stalled: true } | { readonly stalled: false; readonly quietUpTo: bigint };

/** Whether a matching event waits after `last`; if none does, how far the store is quiet. */
const probe = async (client: EventStoreDBClient, last: bigint, options: SubscribeOptions): Promise<Probe> => {
  const page = await allPage(client, last, PROBE_LIMIT);
  if (page.events.some((e) => !isSystemEvent(e) && matchesFilter(e, options.filter))) return { stalled: true };
  return { stalled: false, quietUpTo: page.events.at(-1)?.position ?? last };
};

export async function* subscribe(context: SubscriptionContext, options: SubscribeOptions = {}): AsyncGenerator<SubscriptionMessage> {
  const highWater = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(highWater) || highWater < 1) throw new ValidationError('batchSize', 'must be an integer >= 1');
  const signal = options.signal ? AbortSignal.any([options.signal, context.closing]) : context.closing;
  let last = options.after ?? BEFORE_START; // everything matching up to here has been delivered
  let drops = 0;
  while (!signal.aborted) {
    const feed = new Feed(context.client, last, options.filter, highWater);
    let failure: unknown;
    let suspect = false;
    try {
      for (;;) {
        const item = await feed.next(signal, context.idleTimeoutMs);
        if (item === undefined) return;
        if (item.kind === 'ended') {
          failure = item.error ?? new EventStoreUnavailableError('The server ended the subscription.');
          break;
        }
        if (item.kind === 'idle') {
          const verdict = await probe(context.client, last, options);
          if (verdict.stalled) {
            if (suspect) {
              failure = new EventStoreUnavailableError('The subscription stalled: events are waiting that it does not deliver.');
              break;
            }
            suspect = true;
          } else if (verdict.quietUpTo > last) {
            last = verdict.quietUpTo;
            yield { kind: 'checkpoint', position: last };
          }
          continue;
        }
        suspect = false;
        drops = 0;
        if (item.kind === 'caught-up') {
          // The server's caught-up message carries no position: vouch for the quiet tail after
          // the last event delivered, as the watchdog does, so consumers see the head.
          const verdict = await probe(context.client, last, options);
          if (!verdict.stalled && verdict.quietUpTo > last) last = verdict.quietUpTo;
          yield { kind: 'caught-up', position: last };
        } else if (item.kind === 'checkpoint') {
          if (item.position > last) {
            last = item.position;
            yield { kind: 'checkpoint', position: last };
          }
        } else {
          const position = positionOf(item.event);
          if (position <= last) continue; // already delivered before a resubscription
          last = position;
          if (isSystemEvent(item.event) || !matchesFilter(item.event, options.filter)) continue;
          yield { kind: 'event', event: toRecordedEvent(item.event) };
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      failure = error;
    } finally {
      feed.close();
    }
    if (signal.aborted) return;
    if (!isTransient(failure) && !(failure instanceof EventStoreUnavailableError)) throw mapReadError(failure);
    drops += 1;
    const error = failure instanceof EventStoreUnavailableError ? failure : unavailable(failure, 'The subscription lost its connection.');
    yield { kind: 'dropped', error, attempt: drops };
    await sleep(backoff(context, drops), signal);
  }
}
