/**
 * One `$all` subscription call as a pull-based queue of items, in the order the server sent them.
 *
 * The client reports `caughtUp` as a stream event and checkpoints through a callback, both at the
 * moment the response is transformed, possibly before earlier events have left the readable
 * buffer. Both are therefore pushed into that same buffer as markers, behind the events that came
 * before them. Backpressure: above `highWater` queued items the subscription is paused, which
 * stops reading from the gRPC call.
 */
import type { AllStreamRecordedEvent, AllStreamSubscription, EventStoreDBClient } from '@eventstore/db-client';
import type { EventFilter } from '../port.js';
import { serverFilter } from './filter.js';
import type { CheckpointCallback } from './filter.js';
import { fromAfter } from './positions.js';

export type FeedItem =
  | { readonly kind: 'event'; readonly event: AllStreamRecordedEvent }
  | { readonly kind: 'checkpoint'; readonly position: bigint }
  | { readonly kind: 'caught-up' }
  /** Nothing arrived for the idle timeout. */
  | { readonly kind: 'idle' }
  /** The call ended: with the error, or `undefined` when the server completed it. */
  | { readonly kind: 'ended'; readonly error: unknown };

class Marker {
  constructor(readonly item: FeedItem) {}
}

const isResolved = (chunk: unknown): chunk is { event?: AllStreamRecordedEvent } => typeof chunk === 'object' && chunk !== null;

export class Feed {
  private readonly queue: FeedItem[] = [];
  private readonly subscription: AllStreamSubscription;
  private ending: FeedItem | undefined;
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(client: EventStoreDBClient, after: bigint, filter: EventFilter | undefined, private readonly highWater: number) {
    const checkpointReached: CheckpointCallback = (subscription, position) => {
      subscription.push(new Marker({ kind: 'checkpoint', position: position.commit }));
    };
    this.subscription = client.subscribeToAll({ fromPosition: fromAfter(after), filter: serverFilter(filter, checkpointReached) });
    this.subscription.on('caughtUp', () => this.subscription.push(new Marker({ kind: 'caught-up' })));
    this.subscription.on('data', (chunk: unknown) => {
      if (chunk instanceof Marker) this.queue.push(chunk.item);
      else if (isResolved(chunk) && chunk.event !== undefined) this.queue.push({ kind: 'event', event: chunk.event });
      if (this.queue.length >= this.highWater) this.subscription.pause();
      this.notify();
    });
    // Never removed: an 'error' without a listener would crash the process.
    this.subscription.on('error', (error: unknown) => this.finish(error));
    this.subscription.on('end', () => this.finish(undefined));
    this.subscription.on('close', () => this.finish(undefined));
  }

  /** The next item; `idle` after `idleMs` without one; undefined once `signal` aborts. */
  async next(signal: AbortSignal, idleMs: number): Promise<FeedItem | undefined> {
    for (;;) {
      if (signal.aborted) return undefined;
      const item = this.queue.shift();
      if (item !== undefined) {
        if (this.subscription.isPaused() && this.queue.length < this.highWater / 2) this.subscription.resume();
        return item;
      }
      if (this.ending !== undefined) return this.ending;
      const woken = await this.waitForItem(signal, idleMs);
      if (!woken && !signal.aborted) return { kind: 'idle' };
    }
  }

  /** Cancels the call (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.finish(undefined);
    this.subscription.unsubscribe().catch(() => {});
  }

  private finish(error: unknown): void {
    this.ending ??= { kind: 'ended', error };
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Resolves true when something arrived, false on timeout or abort. */
  private waitForItem(signal: AbortSignal, idleMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const done = (woken: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.wake = undefined;
        resolve(woken);
      };
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(false), idleMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.wake = () => done(true);
    });
  }
}
