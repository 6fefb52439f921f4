/** Picks the cache of the runtime mode: Redis when `redisUrl` is configured, else in-process. */
import { createMemoryReadCache } from './memory-cache.js';
import type { CacheLogger, ReadCache } from './read-cache.js';
import { openRedisReadCache } from './redis-cache.js';

export interface CreateReadCacheOptions {
  /** Absent: the in-process cache (embedded mode). */
  readonly redisUrl?: string | undefined;
  /** Prefix of every key and notice channel, e.g. `${config.redisKeyPrefix}cache:`. */
  readonly keyPrefix: string;
  readonly logger: CacheLogger;
  /** Lifetime of an entry (default 3600; 0: no expiry). */
  readonly ttlSeconds?: number;
  /** In-process only: most entries kept (default 10,000). */
  readonly maxEntries?: number;
}

export const createReadCache = async (options: CreateReadCacheOptions): Promise<ReadCache> => {
  const ttl = options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds };
  if (options.redisUrl === undefined || options.redisUrl === '') {
    return createMemoryReadCache({ logger: options.logger, ...ttl, ...(options.maxEntries === undefined ? {} : { maxEntries: options.maxEntries }) });
  }
  return openRedisReadCache({ url: options.redisUrl, keyPrefix: options.keyPrefix, logger: options.logger, ...ttl });
};
