/**
 * Hot reads through the cache. An entry is served only if its stamp is at least `minPosition`
 * (the caller's consistency token); otherwise, or when the cache has nothing (or is down), the
 * read goes to PostgreSQL and the result is cached stamped with the row's position, or with
 * `projectionReached` when the caller waited for the projection (never over a newer entry). PostgreSQL is the truth: the cache can make a read faster, never wrong or failed.
 */
import type { Kysely } from 'kysely';
import { getAvailability, getProduct } from '../read-models/catalog/queries.js';
import type { AvailabilityView, ProductView } from '../read-models/catalog/views.js';
import { availabilityFromPayload, availabilityToPayload, productFromPayload, productToPayload } from '../read-models/catalog/views.js';
import { availabilityTopic, productTopic } from '../read-models/topics.js';
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

const readThrough = async <T>(cache: ReadCache, options: CachedReadOptions, read: ReadThrough<T>): Promise<T | undefined> => {
  const entry = await cache.get(read.key);
  if (entry !== undefined && entry.position >= (options.minPosition ?? 0n)) {
    const cached = read.fromPayload(entry.payload);
    if (cached !== undefined) return cached;
  }
  const value = await read.load();
  if (value !== undefined) {
    const own = read.positionOf(value);
    const reached = options.projectionReached ?? own;
    await cache.set(read.key, { position: reached > own ? reached : own, payload: read.toPayload(value) });
  }
  return value;
};

export const readProductCached = (
  db: Kysely<unknown>,
  cache: ReadCache,
  productId: string,
  options: CachedReadOptions = {},
): Promise<ProductView | undefined> =>
  readThrough(cache, options, {
    key: productTopic(productId),
    fromPayload: productFromPayload,
    toPayload: productToPayload,
    positionOf: (view) => view.updatedPosition,
    load: () => getProduct(db, productId),
  });

export const readAvailabilityCached = (
  db: Kysely<unknown>,
  cache: ReadCache,
  sku: string,
  options: CachedReadOptions = {},
): Promise<AvailabilityView | undefined> =>
  readThrough(cache, options, {
    key: availabilityTopic(sku),
    fromPayload: availabilityFromPayload,
    toPayload: availabilityToPayload,
    positionOf: (view) => view.updatedPosition,
    load: () => getAvailability(db, sku),
  });
