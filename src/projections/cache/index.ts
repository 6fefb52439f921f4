/** The read side's cache layer: stamped entries, notices, cached readers and the change sink. */
export type { CacheEntry, CacheLogger, Notice, NoticeListener, ReadCache, Unsubscribe } from './read-cache.js';
export { DEFAULT_CACHE_MAX_ENTRIES, DEFAULT_CACHE_TTL_SECONDS, globToRegExp } from './read-cache.js';
export { createReadCache } from './create-read-cache.js';
export type { CreateReadCacheOptions } from './create-read-cache.js';
export { createMemoryReadCache } from './memory-cache.js';
export { openRedisReadCache } from './redis-cache.js';
export { createCacheChangeSink } from './change-sink.js';
export { readAvailabilityCached, readProductCached } from './cached-readers.js';
export type { CachedReadOptions } from './cached-readers.js';
export { DEFAULT_NEAR_CACHE_MAX_ENTRIES, DEFAULT_NEAR_CACHE_TTL_MS, createNearCache, openNearCache } from './near-cache.js';
export type { NearCache, NearCacheOptions, NearDecoders } from './near-cache.js';
