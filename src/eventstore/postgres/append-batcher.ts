/**
 * Group commit. Each append is a transaction whose cost is mostly its commit (a WAL flush), so
 * appends from concurrent callers are coalesced into one transaction:
 *  - while fewer than `maxInFlight` flushes run, an append goes out at once (no added latency);
 *  - otherwise it queues, and the next free slot takes the queue (up to the limits) as one batch.
 * Each append in a batch succeeds or fails on its own. If the batch fails as a whole, its appends
 * are re-sent one by one so that each caller gets its own result or error (appends are idempotent,
 * so this is safe even if the failed batch had in fact committed).
 */
import type { AppendOutcome, AppendRequest } from './append.js';

export interface BatcherLimits {
  /** Transactions in flight at once (each holds a pooled connection). */
  readonly maxInFlight: number;
  /** Appends per batch; each holds an advisory lock until commit. */
  readonly maxAppends: number;
  /** Events per batch: keeps a batch far below the 2^20 events a transaction can hold. */
  readonly maxEvents: number;
  /** Encoded bytes per batch. */
  readonly maxBytes: number;
}

export const DEFAULT_BATCHER_LIMITS: BatcherLimits = { maxInFlight: 2, maxAppends: 128, maxEvents: 10_000, maxBytes: 4 << 20 };

export interface BatchSender {
  one(request: AppendRequest): Promise<AppendOutcome>;
  many(requests: readonly AppendRequest[]): Promise<AppendOutcome[]>;
}

interface Queued {
  readonly request: AppendRequest;
  resolve(outcome: AppendOutcome): void;
  reject(error: unknown): void;
}

export class AppendBatcher {
  private readonly queue: Queued[] = [];
  private inFlight = 0;
  private drained: (() => void)[] = [];

  constructor(
    private readonly send: BatchSender,
    private readonly limits: BatcherLimits = DEFAULT_BATCHER_LIMITS,
  ) {}

  submit(request: AppendRequest): Promise<AppendOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.pump();
    });
  }

  /** Resolves once nothing is queued or in flight. */
  drain(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.limits.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight += 1;
      void this.flush(batch).finally(() => {
        // Hold the slot for one more turn of the event loop: the callers just answered usually
        // append again at once, and should join one batch rather than the first going alone.
        setImmediate(() => {
          this.inFlight -= 1;
          this.pump();
          if (this.inFlight === 0 && this.queue.length === 0) for (const done of this.drained.splice(0)) done();
        });
      });
    }
  }

  /** The oldest queued appends that fit the limits; always at least one. */
  private take(): Queued[] {
    let events = 0;
    let bytes = 0;
    let count = 0;
    for (const item of this.queue) {
      events += item.request.eventCount;
      bytes += item.request.eventsJson.length;
      if (count > 0 && (count >= this.limits.maxAppends || events > this.limits.maxEvents || bytes > this.limits.maxBytes)) break;
      count += 1;
    }
    return this.queue.splice(0, count);
  }

  private async flush(batch: readonly Queued[]): Promise<void> {
    const [only] = batch;
    if (batch.length === 1 && only) return this.sendOne(only);
    let outcomes: AppendOutcome[];
    try {
      outcomes = await this.send.many(batch.map((item) => item.request));
    } catch {
      await Promise.all(batch.map((item) => this.sendOne(item)));
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome) item.resolve(outcome);
      else item.reject(new Error('The append batch returned fewer results than appends.'));
    });
  }

  private async sendOne(item: Queued): Promise<void> {
    await this.send.one(item.request).then(item.resolve, item.reject);
  }
}
