/**
 * Turns pub/sub notices into an async iterable for a subscription: subscribe first, then read the
 * current state (so nothing committed in between is missed), deliver states in position order and
 * only those newer than the last one delivered (or than `after`, when resuming). Ends when
 * `signal` aborts; unsubscribes on the way out.
 */
import type { Notice, Unsubscribe } from '../projections/cache/index.js';

export interface ChangeStreamSource<T> {
  subscribe(onNotice: (notice: Notice) => void): Promise<Unsubscribe>;
  /** The current state, read from the read model (the truth); undefined if there is none yet. */
  current(): Promise<T | undefined>;
  /** The state a notice announces (re-read, or decoded from its payload); undefined to skip it. */
  fromNotice(notice: Notice): Promise<T | undefined>;
  positionOf(value: T): bigint;
}

export async function* changeStream<T>(source: ChangeStreamSource<T>, after: bigint | undefined, signal: AbortSignal): AsyncGenerator<T> {
  const queue: Notice[] = [];
  let wake: (() => void) | undefined;
  const onAbort = (): void => wake?.();
  signal.addEventListener('abort', onAbort);
  const unsubscribe = await source.subscribe((notice) => {
    queue.push(notice);
    wake?.();
  });
  try {
    let last = after ?? -1n;
    if (after !== undefined) {
      const now = await source.current();
      if (now !== undefined && source.positionOf(now) > last) {
        last = source.positionOf(now);
        yield now;
      }
    }
    while (!signal.aborted) {
      const notice = queue.shift();
      if (notice === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      if (notice.position <= last) continue;
      const value = await source.fromNotice(notice);
      if (value === undefined || source.positionOf(value) <= last) continue;
      last = source.positionOf(value);
      yield value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    await unsubscribe();
  }
}
