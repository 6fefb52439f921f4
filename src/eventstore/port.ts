/**
 * The EventStore port. Every adapter (PostgreSQL on node-postgres, PostgreSQL on PGlite,
 * EventStoreDB) implements it and passes the one contract suite in test/contract/.
 *
 * Positions are totally ordered bigints and delivery order is position order: once a subscriber
 * has delivered position p, no event with a position <= p can appear later. Positions need not be
 * dense. Revisions are per-stream, dense, starting at 0n.
 */
import type { KeelError } from '../platform/errors.js';

export type ExpectedRevision = 'any' | 'no_stream' | 'exists' | bigint;

/** An event about to be appended. `id` is a UUID; re-sending the same id is idempotent. */
export interface EventData {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Schema version of `data`; defaults to 1. */
  readonly schemaVersion?: number;
}

export interface RecordedEvent {
  readonly id: string;
  readonly streamId: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly schemaVersion: number;
  /** Revision of this event within its stream (0n for the first). */
  readonly revision: bigint;
  /** Global position in `$all`. */
  readonly position: bigint;
  readonly createdAt: Date;
}

export interface AppendOptions {
  readonly expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the last event now in the stream (pass it as the next expectedRevision). */
  readonly nextExpectedRevision: bigint;
  /** Global position of the last appended event: the consistency token of the write. */
  readonly position: bigint;
}

export interface ReadStreamOptions {
  /** Inclusive. Defaults to the start (forwards) or the end (backwards). */
  readonly fromRevision?: bigint;
  readonly direction?: 'forwards' | 'backwards';
  readonly maxCount?: number;
  /**
   * A hint: the caller reads no metadata (a replay's fold). An adapter may then return `{}` as
   * every event's metadata (the PostgreSQL adapter does not read the column); EventStoreDB's
   * client decodes it anyway.
   */
  readonly skipMetadata?: boolean;
}

export interface EventFilter {
  /** Only these event types (exact names). */
  readonly eventTypes?: readonly string[];
  /** Only streams whose id starts with one of these prefixes. */
  readonly streamPrefixes?: readonly string[];
}

export interface ReadAllOptions {
  /** Exclusive: read events with a position strictly greater than this. Defaults to the start. */
  readonly after?: bigint;
  readonly maxCount?: number;
  readonly filter?: EventFilter;
  /**
   * Also read committed events at or above the subscription horizon (PostgreSQL; an adapter with
   * no horizon ignores it). Those are not final yet: an older transaction may still commit below
   * them, so position order does not hold across them. For counting lag, never for delivery.
   */
  readonly beyondHorizon?: boolean;
}

export interface SubscribeOptions {
  /** Exclusive, as in readAll: a checkpoint. Defaults to the start. */
  readonly after?: bigint;
  readonly filter?: EventFilter;
  readonly signal?: AbortSignal;
  /** Events fetched per round trip while catching up (adapters pick a default). */
  readonly batchSize?: number;
}

/**
 * What a subscription yields. `checkpoint` says "every event up to and including `position` that
 * matches the filter has been delivered": projections store it even when nothing matched.
 * `caught-up` is yielded each time the subscription reaches the head (first time: catch-up done).
 * `dropped` reports a lost connection that the subscription is recovering from.
 */
export type SubscriptionMessage =
  | { readonly kind: 'event'; readonly event: RecordedEvent }
  | { readonly kind: 'checkpoint'; readonly position: bigint }
  | { readonly kind: 'caught-up'; readonly position: bigint }
  | { readonly kind: 'dropped'; readonly error: KeelError | Error; readonly attempt: number };

/**
 * Committed events wait at or above the PostgreSQL subscription horizon, and the transaction that
 * holds it back (a session, in any database of the cluster, or a prepared transaction). The holder
 * fields are null when it was not found: it ended meanwhile, or this role may not see it.
 */
export interface HorizonStall {
  /** The transaction id (xid8, decimal) at the horizon: `pg_snapshot_xmin`. */
  readonly xid: string;
  /** Age of the oldest committed event waiting at or above the horizon. */
  readonly waitingSeconds: number;
  /** The holding session's backend pid (null for a prepared transaction: no session holds it). */
  readonly pid: number | null;
  readonly database: string | null;
  readonly application: string | null;
  /** `pg_stat_activity.state` (`idle in transaction`, `active`, …), or `prepared`. */
  readonly state: string | null;
  /** When the holding transaction began (a session) or was prepared. */
  readonly since: Date | null;
  readonly ageSeconds: number | null;
  /** The prepared transaction's gid (clear it with `ROLLBACK PREPARED '<gid>'`). */
  readonly preparedGid: string | null;
  /** The role that owns the session or the prepared transaction. */
  readonly user: string | null;
}

export interface EventStore {
  readonly kind: string;
  append(streamId: string, events: readonly EventData[], options?: AppendOptions): Promise<AppendResult>;
  /** Yields nothing for a stream that does not exist. Bounded memory: pages through the stream. */
  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  /** Bounded memory: pages through `$all` in position order. */
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  /** Catch-up then live; ends when `signal` aborts. Backpressure: the next page is read only when consumed. */
  subscribe(options?: SubscribeOptions): AsyncIterable<SubscriptionMessage>;
  /** Position below which (inclusive) every event is final and readable: the subscription horizon. */
  headPosition(): Promise<bigint>;
  /**
   * Optional (PostgreSQL on node-postgres): null when no committed event waits at or above the
   * horizon, otherwise how long one has waited and what holds the horizon. Absent: no horizon.
   */
  horizonStall?(): Promise<HorizonStall | null>;
  /**
   * Optional, like `horizonStall`: the age in seconds of the transaction at the horizon (the
   * oldest one running anywhere in the cluster), whether or not an event waits behind it; 0 when
   * none runs. For the keel_xmin_horizon_age_seconds metric.
   */
  horizonAge?(): Promise<number>;
  close(): Promise<void>;
}
