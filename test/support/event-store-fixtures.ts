/** Helpers for tests of the EventStore port: events, draining iterables, following subscriptions. */
import { randomUUID } from 'node:crypto';
import type { EventData, EventStore, SubscriptionMessage } from '../../src/eventstore/port.js';

export const newEvent = (type = 'TestEvent', data: unknown = { n: 1 }): EventData => ({
  id: randomUUID(),
  type,
  data,
  metadata: { commandId: randomUUID(), correlationId: 'c', causationId: 'c', actor: 'test', timestamp: '2026-11-23T00:00:00.000Z' },
});

export const newEvents = (count: number, type = 'TestEvent'): EventData[] =>
  Array.from({ length: count }, (_, i) => newEvent(type, { i }));

/** A stream id no other test uses. */
export const uniqueStream = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;

export const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until every event up to `position` is readable through readAll / subscribe. */
export const waitForHead = async (store: EventStore, position: bigint, timeoutMs = 15_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while ((await store.headPosition()) < position) {
    if (Date.now() > deadline) throw new Error(`head did not reach ${position} within ${timeoutMs} ms`);
    await sleep(10);
  }
};

/**
 * Follows a subscription with an eager consumer (as a projection would): every message is pulled
 * as soon as it is available and kept in `seen`. `until` waits for a message matching the
 * predicate (looking only at messages after those earlier calls consumed); `stop` aborts and
 * waits for the iterator to end; `done` settles when it ends.
 */
export const follow = (store: EventStore, options: Parameters<EventStore['subscribe']>[0] = {}) => {
  const controller = new AbortController();
  const seen: SubscriptionMessage[] = [];
  let cursor = 0;
  let wake: (() => void) | undefined;
  let ended = false;
  let failure: unknown;
  const done = (async () => {
    try {
      for await (const message of store.subscribe({ ...options, signal: controller.signal })) {
        seen.push(message);
        wake?.();
      }
    } catch (error) {
      failure = error ?? new Error('subscription failed');
    } finally {
      ended = true;
      wake?.();
    }
  })();
  const until = async (predicate: (m: SubscriptionMessage) => boolean, timeoutMs = 15_000): Promise<SubscriptionMessage[]> => {
    const start = cursor;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (cursor < seen.length) {
        const message = seen[cursor];
        cursor += 1;
        if (message && predicate(message)) return seen.slice(start, cursor);
      }
      if (failure !== undefined) throw failure;
      if (ended) throw new Error('subscription ended before the condition was met');
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`subscription: condition not met within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  };
  const stop = async (): Promise<void> => {
    controller.abort();
    await done;
  };
  return { seen, until, stop, controller, done };
};

export const eventsOf = (messages: readonly SubscriptionMessage[]) =>
  messages.flatMap((m) => (m.kind === 'event' ? [m.event] : []));
