/**
 * The in-process cache of embedded mode (no `REDIS_URL`): an LRU of stamped entries and an
 * EventEmitter for notices. One process, so a "newer stamp wins" check needs no atomicity beyond
 * JavaScript's run-to-completion. Payloads are kept as JSON text, as in Redis: readers get their
 * own copies, and a payload that is not JSON fails here as it would there.
 */
import { EventEmitter } from 'node:events';
import { LRUCache } from 'lru-cache';
import type { CacheEntry, CacheLogger, Notice, NoticeListener, ReadCache, Unsubscribe } from './read-cache.js';
import { DEFAULT_CACHE_MAX_ENTRIES, DEFAULT_CACHE_TTL_SECONDS, globToRegExp } from './read-cache.js';

export interface MemoryReadCacheOptions {
  readonly logger: CacheLogger;
  /** 0: entries never expire (they are still evicted least-recently-used first). */
  readonly ttlSeconds?: number;
  readonly maxEntries?: number;
}

interface StoredEntry {
  readonly position: bigint;
  readonly json: string;
}

const copy = (json: string): Readonly<Record<string, unknown>> => {
  const value: unknown = JSON.parse(json);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value } : {};
};

export const createMemoryReadCache = (options: MemoryReadCacheOptions): ReadCache => {
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_CACHE_TTL_SECONDS;
  const entries = new LRUCache<string, StoredEntry>({
    max: options.maxEntries ?? DEFAULT_CACHE_MAX_ENTRIES,
    ...(ttlSeconds > 0 ? { ttl: ttlSeconds * 1000 } : {}),
  });
  const notices = new EventEmitter();
  notices.setMaxListeners(0);

  return {
    kind: 'memory',
    get: (key) => {
      const stored = entries.get(key);
      return Promise.resolve(stored === undefined ? undefined : { position: stored.position, payload: copy(stored.json) });
    },
    set: async (key, entry: CacheEntry) => {
      const json = JSON.stringify(entry.payload);
      const current = entries.get(key);
      if (entry.position < 0n || (current !== undefined && current.position > entry.position)) return false;
      entries.set(key, { position: entry.position, json });
      return true;
    },
    delete: (key) => {
      entries.delete(key);
      return Promise.resolve();
    },
    publish: async (notice: Notice) => {
      const json = JSON.stringify(notice.payload);
      notices.emit('notice', json, notice);
    },
    subscribe: (pattern: string, listener: NoticeListener): Promise<Unsubscribe> => {
      const matcher = globToRegExp(pattern);
      const onNotice = (json: string, notice: Notice): void => {
        if (!matcher.test(notice.topic)) return;
        try {
          listener({ topic: notice.topic, position: notice.position, payload: copy(json), ...(notice.traceparent === undefined ? {} : { traceparent: notice.traceparent }) });
        } catch (error) {
          options.logger.warn({ err: error, topic: notice.topic }, 'cache notice listener failed');
        }
      };
      notices.on('notice', onNotice);
      return Promise.resolve(() => {
        notices.off('notice', onNotice);
        return Promise.resolve();
      });
    },
    close: () => {
      notices.removeAllListeners();
      entries.clear();
      return Promise.resolve();
    },
  };
};
