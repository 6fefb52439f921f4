/**
 * The EventStore port on PostgreSQL (node-postgres) and on embedded PGlite: the same SQL on both.
 * Expects the event-store migration to have run (see ../open.ts).
 */
import type { DatabaseHandle } from '../../platform/database.js';
import { appendMetrics, secondsSince } from '../../platform/metrics.js';
import { EventStoreUnavailableError } from '../errors.js';
import type {
  AppendOptions,
  AppendResult,
  EventData,
  EventStore,
  HorizonStall,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  SubscriptionMessage,
} from '../port.js';
import { appendBatch, appendOne, prepareAppend } from './append.js';
import type { AppendOutcome, AppendRequest } from './append.js';
import { AppendBatcher, DEFAULT_BATCHER_LIMITS } from './append-batcher.js';
import type { BatcherLimits } from './append-batcher.js';
import { ChangeSignal } from './change-signal.js';
import { readHorizonAge, readHorizonStall } from './horizon.js';
import { CHANNEL, CoalescedNotifier } from './notifier.js';
import { headPosition, readAll, readStream } from './read.js';
import type { EventStoreDb, EventStoreTables } from './schema.js';
import { subscribe } from './subscribe.js';

const appended = appendMetrics('postgres');

export interface PostgresEventStoreOptions {
  /** Group commit of concurrent appends (default on); `false` sends each append on its own. */
  readonly batching?: false | Partial<BatcherLimits>;
  /** Safety-net poll of idle subscriptions, in ms (default 1000). */
  readonly pollIntervalMs?: number;
}

export const createPostgresEventStore = (handle: DatabaseHandle, options: PostgresEventStoreOptions = {}): EventStore =>
  new PostgresEventStore(handle, options);

class PostgresEventStore implements EventStore {
  readonly kind: string;
  private readonly db: EventStoreDb;
  private readonly batcher: AppendBatcher | undefined;
  private readonly changes = new ChangeSignal();
  // PGlite is one process by design: the in-process signal reaches every subscriber there.
  private readonly notifier: CoalescedNotifier | undefined;
  private readonly closing = new AbortController();
  private listening: Promise<void> | undefined;
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly handle: DatabaseHandle,
    private readonly options: PostgresEventStoreOptions,
  ) {
    this.kind = handle.kind;
    this.db = handle.db.withTables<EventStoreTables>();
    this.notifier = handle.kind === 'postgres' ? new CoalescedNotifier(handle.db) : undefined;
    const db = this.db;
    this.batcher =
      options.batching === false
        ? undefined
        : new AppendBatcher(
            { one: (request) => appendOne(db, request), many: (requests) => appendBatch(db, requests) },
            { ...DEFAULT_BATCHER_LIMITS, ...options.batching },
          );
  }

  async append(streamId: string, events: readonly EventData[], options: AppendOptions = {}): Promise<AppendResult> {
    if (this.closing.signal.aborted) throw new EventStoreUnavailableError('The event store is closed.');
    const started = performance.now();
    const request: AppendRequest = prepareAppend(streamId, events, options.expectedRevision ?? 'any');
    const outcome: AppendOutcome = this.batcher ? await this.batcher.submit(request) : await appendOne(this.db, request);
    if (!outcome.ok) throw outcome.error;
    appended.record(events, secondsSince(started));
    if (outcome.wrote) {
      this.changes.fire();
      this.notifier?.poke();
    }
    return outcome.result;
  }

  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
    return readStream(this.db, streamId, options);
  }

  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent> {
    return readAll(this.db, options);
  }

  subscribe(options?: SubscribeOptions): AsyncIterable<SubscriptionMessage> {
    return subscribe(
      {
        db: this.db,
        changes: this.changes,
        pollIntervalMs: this.options.pollIntervalMs ?? 1_000,
        closing: this.closing.signal,
        listen: () => this.listen(),
      },
      options,
    );
  }

  headPosition(): Promise<bigint> {
    return headPosition(this.db);
  }

  /** PGlite is one session: nothing else can hold its horizon, and it reports no holder. */
  horizonStall(): Promise<HorizonStall | null> {
    return this.handle.kind === 'postgres' ? readHorizonStall(this.db) : Promise.resolve(null);
  }

  horizonAge(): Promise<number> {
    return this.handle.kind === 'postgres' ? readHorizonAge(this.db) : Promise.resolve(0);
  }

  /** Ends subscriptions and waits for appends in flight. Does not close the database handle. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.batcher?.drain();
    await this.notifier?.flush();
    await this.listening;
    await this.unlisten?.();
  }

  /** LISTEN once per store, on first subscription; a failure is retried by the next one. */
  private listen(): Promise<void> {
    if (this.handle.kind !== 'postgres' || this.closing.signal.aborted) return Promise.resolve();
    this.listening ??= this.handle
      .listen(CHANNEL, () => this.changes.fire())
      .then((unlisten) => {
        this.unlisten = unlisten;
      })
      .catch(() => {
        this.listening = undefined;
      });
    return this.listening;
  }
}
