/**
 * The EventStore port on EventStoreDB, through `@eventstore/db-client` (gRPC). Positions are
 * `$all` commit positions; EventStoreDB's own system events never reach Keel.
 */
import type { EventStoreDBClient } from '@eventstore/db-client';
import { appendMetrics, secondsSince } from '../../platform/metrics.js';
import { EventStoreUnavailableError } from '../errors.js';
import type {
  AppendOptions,
  AppendResult,
  EventData,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  SubscriptionMessage,
} from '../port.js';
import { append } from './append.js';
import { connect } from './deadline.js';
import { headPosition, readAll, readStream } from './read.js';
import { subscribe } from './subscribe.js';
import type { SubscriptionSettings } from './subscribe.js';

const appended = appendMetrics('esdb');

/** Subscription watchdog and resubscription settings; unset ones take the defaults. */
export type EsdbEventStoreOptions = Partial<SubscriptionSettings>;

export const DEFAULT_SUBSCRIPTION_SETTINGS: SubscriptionSettings = { idleTimeoutMs: 5_000, retryBaseMs: 100, retryMaxMs: 5_000 };

/** `url` is an EventStoreDB connection string: `esdb://host:2113?tls=false`, `esdb+discover://…`. */
export const createEsdbEventStore = (url: string, options: EsdbEventStoreOptions = {}): EventStore =>
  new EsdbEventStore(connect(url), { ...DEFAULT_SUBSCRIPTION_SETTINGS, ...options });

class EsdbEventStore implements EventStore {
  readonly kind = 'eventstoredb';
  private readonly closing = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly settings: SubscriptionSettings,
  ) {}

  async append(streamId: string, events: readonly EventData[], options: AppendOptions = {}): Promise<AppendResult> {
    if (this.closing.signal.aborted) throw new EventStoreUnavailableError('The event store is closed.');
    const started = performance.now();
    const appending = append(this.client, streamId, events, options.expectedRevision ?? 'any');
    this.inFlight.add(appending);
    try {
      const result = await appending;
      appended.record(events, secondsSince(started));
      return result;
    } finally {
      this.inFlight.delete(appending);
    }
  }

  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
    return readStream(this.client, streamId, options);
  }

  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent> {
    return readAll(this.client, options);
  }

  subscribe(options?: SubscribeOptions): AsyncIterable<SubscriptionMessage> {
    return subscribe({ ...this.settings, client: this.client, closing: this.closing.signal }, options);
  }

  headPosition(): Promise<bigint> {
    return headPosition(this.client);
  }

  /** Ends subscriptions, waits for appends in flight, then closes the connection. */
  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    await Promise.allSettled([...this.inFlight]);
    await this.client.dispose();
  }
}
