/**
 * The cache layer's port. Entries are derived data stamped with the position of the state they
 * hold: a writer never replaces a newer stamp with an older one, and a reader trusts an entry only
 * if its stamp is at least the reader's consistency token (otherwise it reads PostgreSQL). Notices
 * are the read models' changes, published after commit for the API's subscriptions.
 *
 * Two implementations: Redis (shared by every process) and in-process (embedded mode). Neither
 * rejects from get/set/delete/publish because of the cache: an unreachable cache answers "nothing
 * cached" and logs once per outage, so Redis down means slower reads, never failed ones. (A
 * payload that is not JSON-serialisable, a bug, rejects with the TypeError in both.)
 */

export interface CacheEntry {
  /** The position the payload is current as of (the stamp). */
  readonly position: bigint;
  /** JSON-serialisable. */
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface Notice {
  /** e.g. `order:o-1`, `availability:SKU-1` (see read-models/topics.ts). */
  readonly topic: string;
  readonly position: bigint;
  readonly payload: Readonly<Record<string, unknown>>;
  /** The trace context of the event that made the change (tracing on only). */
  readonly traceparent?: string;
}

export type NoticeListener = (notice: Notice) => void;

/** Stops a subscription; idempotent. */
export type Unsubscribe = () => Promise<void>;

export interface ReadCache {
  readonly kind: 'redis' | 'memory';
  /** The entry under `key`; undefined when missing, expired, unreadable or the cache is unreachable. */
  get(key: string): Promise<CacheEntry | undefined>;
  /**
   * Stores `entry` unless `key` holds a strictly newer stamp (atomic in Redis). True if written;
   * false if a newer entry won or the cache is unreachable.
   */
  set(key: string, entry: CacheEntry): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Best effort: lost while the cache is unreachable. */
  publish(notice: Notice): Promise<void>;
  /**
   * Calls `listener` for every notice whose topic matches `pattern`: a topic, or a glob where `*`
   * matches any run of characters and `?` one character (`order:*`). Resolves once subscribed
   * (while Redis is down: at once, and the subscription is made when it returns).
   */
  subscribe(pattern: string, listener: NoticeListener): Promise<Unsubscribe>;
  /**
   * Whether notices are flowing: the subscriptions are made and their connection is up. Absent:
   * always (the in-process cache loses no notice).
   */
  noticesLive?(): boolean;
  /**
   * Calls `listener` whenever notices may have been missed: with false when their connection is
   * lost, with true once every subscription is made again. Returns a function that stops it.
   */
  watchNotices?(listener: (live: boolean) => void): () => void;
  close(): Promise<void>;
}

/** The logger the cache reports outages to (pino's Logger fits). */
export interface CacheLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** `*` and `?` globs (Redis PSUBSCRIBE's, without character classes) as a RegExp. */
export const globToRegExp = (pattern: string): RegExp =>
  new RegExp(
    `^${[...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\-]/g, '\\$&'))).join('')}$`,
    's',
  );

export const DEFAULT_CACHE_TTL_SECONDS = 3_600;
export const DEFAULT_CACHE_MAX_ENTRIES = 10_000;
