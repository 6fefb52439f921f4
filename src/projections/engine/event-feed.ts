/**
 * A prefetching reader over a subscription, so batches adapt to lag: while the runner applies a
 * batch the feed keeps reading, and the next batch is whatever has arrived (up to `maxBatch`).
 * Catching up, the queue is full and batches are large (few, big transactions); live, events
 * trickle in and a batch is the one or few that just arrived (low latency).
 */
import type { EventFilter, EventStore, RecordedEvent } from '../../eventstore/port.js';

export interface FeedBatch {
  readonly events: readonly RecordedEvent[];
  /** Every matching event at or below this position is in this batch or an earlier one. */
  readonly position: bigint;
  /** The subscription had reached the head when this batch was taken. */
  readonly live: boolean;
}

export interface FeedOptions {
  readonly store: EventStore;
  readonly after: bigint;
  readonly filter: EventFilter;
  readonly maxBatch: number;
  readonly onDropped?: (error: Error, attempt: number) => void;
}

export class EventFeed {
  private readonly controller = new AbortController();
  private events: RecordedEvent[] = [];
  private position: bigint;
  private live = false;
  private failure: unknown;
  private ended = false;
  private wakeTaker: (() => void) | undefined;
  private wakePump: (() => void) | undefined;
  private readonly pumping: Promise<void>;

  constructor(private readonly options: FeedOptions) {
    this.position = options.after;
    this.pumping = this.pump();
  }

  private async pump(): Promise<void> {
    const { store, after, filter, maxBatch } = this.options;
    try {
      for await (const message of store.subscribe({ after, filter, signal: this.controller.signal, batchSize: maxBatch })) {
        if (message.kind === 'event') {
          this.events.push(message.event);
          this.position = message.event.position;
        } else if (message.kind === 'checkpoint') {
          if (message.position > this.position) this.position = message.position;
        } else if (message.kind === 'caught-up') {
          this.live = true;
          if (message.position > this.position) this.position = message.position;
        } else {
          this.options.onDropped?.(message.error, message.attempt);
          continue;
        }
        this.wakeTaker?.();
        // Backpressure: hold at two batches' worth; the subscription reads its next page only when pulled.
        while (this.events.length >= 2 * maxBatch && !this.controller.signal.aborted) {
          await new Promise<void>((resolve) => (this.wakePump = resolve));
        }
      }
    } catch (error) {
      this.failure = error;
    } finally {
      this.ended = true;
      this.wakeTaker?.();
    }
  }

  /** The delivered position (everything matching up to it is queued or taken). */
  get delivered(): bigint {
    return this.position;
  }

  /**
   * Waits until something is queued past `from` (or `signal` aborts), then takes up to `maxBatch`
   * events. Returns undefined when aborted or ended; throws if the subscription failed.
   */
  async take(from: bigint, signal: AbortSignal): Promise<FeedBatch | undefined> {
    if (signal.aborted) return undefined;
    while (this.events.length === 0 && this.position <= from) {
      if (this.failure !== undefined) throw this.failure;
      if (this.ended || signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          this.wakeTaker = undefined;
          resolve();
        };
        this.wakeTaker = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    const count = Math.min(this.events.length, this.options.maxBatch);
    const events = this.events.splice(0, count);
    // Taking only part of the queue: the batch ends at its last event, not at the queue's position.
    const last = events.at(-1);
    const position = this.events.length > 0 && last !== undefined ? last.position : this.position;
    this.wakePump?.();
    this.wakePump = undefined;
    return { events, position, live: this.live && this.events.length === 0 };
  }

  /** Events queued and not yet taken. */
  get queued(): number {
    return this.events.length;
  }

  async close(): Promise<void> {
    this.controller.abort();
    this.wakePump?.();
    await this.pumping;
  }
}
