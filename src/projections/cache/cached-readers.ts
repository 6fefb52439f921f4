/**
 * Hot reads through the cache. An entry is served only if its stamp is at least `minPosition`
 * (the caller's consistency token); otherwise, or when the cache has nothing (or is down), the
 * read goes to PostgreSQL and the result is cached stamped with the row's position, or with
 * `projectionReached` when the caller waited for the projection (never over a newer entry). PostgreSQL is the truth: the cache can make a read faster, never wrong or failed.
 * With a near cache (near-cache.ts, the API process's in-process L1) it is asked first, under the
 * same rule, and is given what the shared cache or PostgreSQL answered, with the same stamp.
 */
import type { Kysely } from 'kysely';
import { getAvailability, getProduct } from '../read-models/catalog/queries.js';
import type { AvailabilityView, ProductView } from '../read-models/catalog/views.js';
import { availabilityFromPayload, availabilityToPayload, productFromPayload, productToPayload } from '../read-models/catalog/views.js';
import { availabilityTopic, productTopic } from '../read-models/topics.js';
import { cacheMetrics } from '../../platform/metrics.js';
import type { NearCache } from './near-cache.js';
import type { ReadCache } from './read-cache.js';

export interface CachedReadOptions {
  /** The consistency token: an entry stamped below it is bypassed. Default: any entry will do. */
  readonly minPosition?: bigint;
  /**
   * The caller knows the projection had committed this position before the call (it waited for
   * it, e.g. for the consistency token): a row read from PostgreSQL is then current as of it, and
   * its cache entry is stamped with it (rather than the row's own, older position), so the next
   * reader with the same token is served from the cache. Never pass a position not waited for.
   */
  readonly projectionReached?: bigint;
}

interface ReadThrough<T> {
  readonly key: string;
  readonly fromPayload: (payload: unknown) => T | undefined;
  readonly toPayload: (value: T) => Readonly<Record<string, unknown>>;
  readonly positionOf: (value: T) => bigint;
  readonly load: () => Promise<T | undefined>;
}

/** keel_cache_*: the process's near cache, and the shared one (Redis, or in-process without it). */
const nearCache = cacheMetrics('near');
const sharedCache = cacheMetrics('shared');

const readThrough = async <T>(cache: ReadCache, options: CachedReadOptions, read: ReadThrough<T>, near?: NearCache): Promise<T | undefined> => {
  const minPosition = options.minPosition ?? 0n;
  if (near !== undefined) {
    const held = near.get<T>(read.key, minPosition);
    if (held !== undefined) {
      nearCache.hit.inc();
      return held;
    }
    nearCache.miss.inc();
  }
  const epoch = near?.epoch();
  const entry = await cache.get(read.key);
  if (entry !== undefined && entry.position >= minPosition) {
    const cached = read.fromPayload(entry.payload);
    if (cached !== undefined) {
      sharedCache.hit.inc();
      if (near !== undefined) {
        near.offer(read.key, entry.position, cached, epoch);
        nearCache.fill.inc();
      }
      return cached;
    }
  }
  sharedCache.miss.inc();
  const value = await read.load();
  if (value !== undefined) {
    const own = read.positionOf(value);
    const reached = options.projectionReached ?? own;
    const position = reached > own ? reached : own;
    await cache.set(read.key, { position, payload: read.toPayload(value) });
    sharedCache.fill.inc();
    if (near !== undefined) {
      near.offer(read.key, position, value, epoch);
      nearCache.fill.inc();
    }
  }
  return value;
};

export const readProductCached = (
  db: Kysely<unknown>,
  cache: ReadCache,
  productId: string,
  options: CachedReadOptions = {},
  near?: NearCache,
): Promise<ProductView | undefined> =>
  readThrough(cache, options, {
    key: productTopic(productId),
    fromPayload: productFromPayload,
    toPayload: productToPayload,
    positionOf: (view) => view.updatedPosition,
    load: () => getProduct(db, productId),
  }, near);

export const readAvailabilityCached = (
  db: Kysely<unknown>,
  cache: ReadCache,
  sku: string,
  options: CachedReadOptions = {},
  near?: NearCache,
): Promise<AvailabilityView | undefined> =>
  readThrough(cache, options, {
    key: availabilityTopic(sku),
    fromPayload: availabilityFromPayload,
    toPayload: availabilityToPayload,
    positionOf: (view) => view.updatedPosition,
    load: () => getAvailability(db, sku),
  }, near);
