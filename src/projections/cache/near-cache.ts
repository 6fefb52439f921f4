/**
 * The near cache: an in-process L1 in front of the shared cache (Redis) for the hot reads
 * (product detail, availability), in the API process. Entries hold the decoded view and are
 * stamped with positions exactly like the shared cache's: an older stamp never replaces a newer
 * one, and a read with a consistency token (`minPosition`) takes an entry only if its stamp is at
 * least the token.
 *
 * It is fed by the change notices the process receives over pub/sub (they carry the row and its
 * position) and by the reads that went to the shared cache or PostgreSQL. Staleness of a read
 * without a token is bounded by a short TTL (an entry is served at most `ttlMs` after it was last
 * confirmed), which also covers a notice lost in flight. While the notice subscription is not
 * live (not yet made, connection lost, being made again) the near cache serves and keeps nothing,
 * and it is emptied whenever the subscription is made again (notices may have been missed): a
 * read that started before that does not fill it either (`epoch`).
 */
import type { ReadCache, Unsubscribe } from './read-cache.js';

export const DEFAULT_NEAR_CACHE_TTL_MS = 1_000;
export const DEFAULT_NEAR_CACHE_MAX_ENTRIES = 10_000;

export interface NearCacheOptions {
  /** How long an entry is served after it was last stored or confirmed (default 1,000 ms). */
  readonly ttlMs?: number;
  /** Most entries kept, oldest stored first out (default 10,000). */
  readonly maxEntries?: number;
  /** The clock (ms), for tests. */
  readonly now?: () => number;
}

/** Decodes a notice's payload for the topics (key prefixes) the near cache holds. */
export type NearDecoders = Readonly<Record<string, (payload: unknown) => unknown>>;

interface NearEntry {
  readonly position: bigint;
  readonly value: unknown;
  readonly expiresAt: number;
}

export interface NearCache {
  /** The value under `key` if live, not expired and stamped at least `minPosition`. */
  get<T>(key: string, minPosition?: bigint): T | undefined;
  /** Pass to `offer` for a read that starts now: a clear in between voids the read's offer. */
  epoch(): number;
  /** Stores `value` stamped `position` unless `key` holds a newer stamp; true if stored. */
  offer(key: string, position: bigint, value: unknown, epoch?: number): boolean;
  /** Empties the cache (voiding reads in flight). */
  clear(): void;
  /** Whether it serves and keeps entries now (its notices are live). */
  live(): boolean;
  /** Entries held (expired ones included), for tests. */
  readonly size: number;
  /** Stops listening to notices. */
  close(): Promise<void>;
}

/**
 * A near cache that is live while `live()` says so (default: always). Used alone in tests; in the
 * API, `openNearCache` ties it to the shared cache's notices.
 */
export const createNearCache = (options: NearCacheOptions & { readonly live?: () => boolean } = {}): NearCache => {
  const ttlMs = options.ttlMs ?? DEFAULT_NEAR_CACHE_TTL_MS;
  const maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_NEAR_CACHE_MAX_ENTRIES);
  const now = options.now ?? Date.now;
  const live = options.live ?? (() => true);
  const entries = new Map<string, NearEntry>();
  let generation = 0;
  return {
    get<T>(key: string, minPosition = 0n): T | undefined {
      if (!live()) return undefined;
      const entry = entries.get(key);
      if (entry === undefined || entry.expiresAt <= now() || entry.position < minPosition) return undefined;
      return entry.value as T;
    },
    epoch: () => generation,
    offer(key, position, value, epoch = generation) {
      if (epoch !== generation || !live() || position < 0n) return false;
      // An expired entry still holds its stamp: nothing older replaces it.
      const current = entries.get(key);
      if (current !== undefined && current.position > position) return false;
      if (current !== undefined) entries.delete(key);
      else if (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
      entries.set(key, { position, value: typeof value === 'object' && value !== null ? Object.freeze(value) : value, expiresAt: now() + ttlMs });
      return true;
    },
    clear() {
      generation += 1;
      entries.clear();
    },
    live,
    get size() {
      return entries.size;
    },
    close: () => Promise.resolve(),
  };
};

/**
 * A near cache fed by `cache`'s notices for the topics of `decoders` (`{ 'product:': decode }`):
 * live once every subscription is made and while the cache reports its notices live; emptied
 * whenever that changes.
 */
export const openNearCache = (cache: ReadCache, decoders: NearDecoders, options: NearCacheOptions = {}): NearCache => {
  let subscribed = false;
  let closed = false;
  const live = (): boolean => subscribed && !closed && (cache.noticesLive?.() ?? true);
  const near = createNearCache({ ...options, live });
  const unsubscribes: Unsubscribe[] = [];
  const stopWatching = cache.watchNotices?.(() => near.clear());
  void Promise.all(
    Object.entries(decoders).map(([prefix, decode]) =>
      cache.subscribe(`${prefix}*`, (notice) => {
        const value = decode(notice.payload);
        if (value !== undefined) near.offer(notice.topic, notice.position, value);
      }),
    ),
  ).then(
    (stops) => {
      unsubscribes.push(...stops);
      if (closed) return void Promise.all(stops.map((stop) => stop()));
      near.clear();
      subscribed = true;
    },
    () => {
      // Never live: every read goes to the shared cache, as without a near cache.
    },
  );
  return {
    get: (key, minPosition) => near.get(key, minPosition),
    epoch: () => near.epoch(),
    offer: (key, position, value, epoch) => near.offer(key, position, value, epoch),
    clear: () => near.clear(),
    live,
    get size() {
      return near.size;
    },
    close: async () => {
      closed = true;
      near.clear();
      stopWatching?.();
      await Promise.all(unsubscribes.splice(0).map((stop) => stop()));
    },
  };
};
