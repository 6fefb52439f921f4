/**
 * Turns pub/sub notices into an async iterable for a subscription: subscribe first, then read the
 * current state (so nothing committed in between is missed), deliver states in position order and
 * only those newer than the last one delivered (or than `after`, when resuming). While notices
 * are not arriving (Redis down) it reads the read model every second instead, and for ten seconds
 * after they come back (a publisher may reconnect later). Ends when `signal` aborts; unsubscribes
 * on the way out.
 */
import { contextOf, endSpan, startSpan } from '../platform/tracing.js';
import type { Notice, Unsubscribe } from '../projections/cache/index.js';

export interface ChangeStreamSource<T> {
  subscribe(onNotice: (notice: Notice) => void): Promise<Unsubscribe>;
  /**
   * The current state, read from the read model (the truth), if it changed after position `since`;
   * undefined if there is none yet or nothing changed.
   */
  current(since: bigint): Promise<T | undefined>;
  /**
   * The state a notice announces (re-read, or decoded from its payload), if it changed after
   * position `since` (the last state delivered); undefined to skip it.
   */
  fromNotice(notice: Notice, since: bigint): Promise<T | undefined>;
  positionOf(value: T): bigint;
  /**
   * Whether notices arrive now (the Redis notice subscription is up); absent: always. While they
   * do not, and for `resyncWindowMs` after they come back, the state is read every `pollMs`: a
   * change announced while Redis was down would otherwise never reach the subscriber.
   */
  noticesLive?(): boolean;
  /** Calls `listener` whenever notices stop or start arriving; returns the way to stop. */
  watchNotices?(listener: (live: boolean) => void): () => void;
}

/** How often a subscription reads the read model while notices are not arriving. */
export const NOTICE_GAP_POLL_MS = 1_000;

/**
 * How long it goes on reading after notices came back. The publishers (the projector processes)
 * reconnect to Redis on their own backoff, possibly later than this subscriber: a change they
 * committed in between was announced to nobody. Every client reconnects within RECONNECT_MAX_MS
 * (src/platform/redis.ts) plus its connect timeout of a returned Redis; this covers that twice.
 */
export const NOTICE_RESYNC_WINDOW_MS = 10_000;

export async function* changeStream<T>(
  source: ChangeStreamSource<T>,
  after: bigint | undefined,
  signal: AbortSignal,
  pollMs = NOTICE_GAP_POLL_MS,
  resyncWindowMs = NOTICE_RESYNC_WINDOW_MS,
): AsyncGenerator<T> {
  const queue: Notice[] = [];
  let wake: (() => void) | undefined;
  const onAbort = (): void => wake?.();
  signal.addEventListener('abort', onAbort);
  const unsubscribe = await source.subscribe((notice) => {
    queue.push(notice);
    wake?.();
  });
  const live = (): boolean => source.noticesLive?.() ?? true;
  // A subscriber asleep while notices were live must wake when they stop, to start reading.
  const unwatch = source.watchNotices?.(() => wake?.());
  try {
    let last = after ?? -1n;
    let wasLive = live();
    // Until then the read model is read every pollMs (notices down, or back only lately).
    let readUntil = wasLive ? 0 : Number.POSITIVE_INFINITY;
    // Resuming from a token: read the truth once, first.
    let readOnce = after !== undefined;
    while (!signal.aborted) {
      const liveNow = live();
      if (!liveNow) readUntil = Number.POSITIVE_INFINITY;
      else if (!wasLive) readUntil = Date.now() + resyncWindowMs;
      wasLive = liveNow;
      const reading = Date.now() < readUntil;
      if (reading || readOnce) {
        readOnce = false;
        const now = await source.current(last);
        if (now !== undefined && source.positionOf(now) > last) {
          last = source.positionOf(now);
          yield now;
        }
      }
      const notice = queue.shift();
      if (notice === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          // Without (reliable) notices nothing would wake us: poll.
          if (reading) setTimeout(resolve, pollMs);
        });
        wake = undefined;
        continue;
      }
      if (notice.position <= last) continue;
      const value = await source.fromNotice(notice, last);
      if (value === undefined || source.positionOf(value) <= last) continue;
      last = source.positionOf(value);
      // With tracing on, the push continues the trace of the event that changed the row.
      const span = notice.traceparent === undefined ? undefined : startSpan('subscription push', { parent: contextOf(notice.traceparent), attributes: { 'keel.topic': notice.topic } });
      try {
        yield value;
      } finally {
        endSpan(span);
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    unwatch?.();
    await unsubscribe();
  }
}
