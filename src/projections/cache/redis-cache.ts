/**
 * The Redis cache. Entries are hashes `{ p: position, v: JSON payload }` under the configured key
 * prefix, written by a Lua script that keeps the newer stamp (atomic: two writers racing cannot
 * put an older state over a newer one). Notices go on channels `<prefix>notice:<topic>`, so
 * deployments (and test files) with different prefixes never hear each other; subscriptions use
 * PSUBSCRIBE on a second connection (a subscribed connection can do nothing else).
 *
 * Both connections use the fail-fast options of platform/redis.ts (no offline queue, 2 s command
 * timeout): while Redis is down no command is even sent (the client is not `ready`), every call
 * answers "nothing cached" at once, one warning is logged, and ioredis reconnects in the
 * background; the subscriptions are made again on reconnection.
 */
import { Redis } from 'ioredis';
import { redisOptions } from '../../platform/redis.js';
import { OutageLog } from './outage.js';
import type { CacheEntry, CacheLogger, Notice, NoticeListener, ReadCache, Unsubscribe } from './read-cache.js';
import { DEFAULT_CACHE_TTL_SECONDS } from './read-cache.js';

export interface RedisReadCacheOptions {
  readonly url: string;
  /** Prepended to every key and notice channel, e.g. `keel:cache:`. */
  readonly keyPrefix: string;
  readonly logger: CacheLogger;
  /** 0: entries never expire. */
  readonly ttlSeconds?: number;
}

/**
 * KEYS[1] entry; ARGV: position (decimal), payload JSON, TTL in ms (0: none). Positions are
 * compared as decimal strings (length, then lexicographically), exactly, beyond 2^53.
 */
const SET_IF_NEWER = `
local current = redis.call('HGET', KEYS[1], 'p')
local incoming = ARGV[1]
if current and (#current > #incoming or (#current == #incoming and current > incoming)) then
  return 0
end
redis.call('HSET', KEYS[1], 'p', incoming, 'v', ARGV[2])
if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
`;

/** Keys whose lost writes are remembered one by one; past it, every entry is removed on recovery. */
export const MAX_UNWRITTEN = 100_000;
const REMOVE_BATCH = 500;

const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

const parseNotice = (topic: string, message: string): Notice | undefined => {
  const parsed = parseJson(message);
  if (!isRecord(parsed) || typeof parsed.p !== 'string' || !/^\d+$/.test(parsed.p) || !isRecord(parsed.d)) return undefined;
  const traceparent = typeof parsed.t === 'string' ? { traceparent: parsed.t } : {};
  return { topic, position: BigInt(parsed.p), payload: parsed.d, ...traceparent };
};

/** Opens the cache; waits for Redis up to its connect timeout but never fails (it starts degraded). */
export const openRedisReadCache = async (options: RedisReadCacheOptions): Promise<ReadCache> => {
  const ttlMs = (options.ttlSeconds ?? DEFAULT_CACHE_TTL_SECONDS) * 1000;
  const channelPrefix = `${options.keyPrefix}notice:`;
  const outage = new OutageLog(options.logger, 'Redis cache');
  const client = new Redis(options.url, redisOptions({ keyPrefix: options.keyPrefix, name: 'keel-cache' }));
  client.on('error', (error: Error) => outage.failed(error));
  client.on('ready', () => outage.recovered());

  const listeners = new Map<string, Set<NoticeListener>>();
  let subscriber: Redis | undefined;
  // Notices are live while the subscriber connection is up and every subscription was made on it.
  let live = false;
  const watchers = new Set<(live: boolean) => void>();
  const setLive = (value: boolean): void => {
    live = value;
    for (const watcher of watchers) watcher(value);
  };
  const subscribeAll = async (connection: Redis, patterns: readonly string[]): Promise<boolean> => {
    if (connection.status !== 'ready') return false;
    if (patterns.length === 0) return true;
    return connection.psubscribe(...patterns.map((p) => `${escapeGlob(channelPrefix)}${p}`)).then(
      () => true,
      (error: unknown) => {
        outage.failed(error);
        return false;
      },
    );
  };
  const subscriberConnection = (): Redis => {
    if (subscriber !== undefined) return subscriber;
    const connection = new Redis(options.url, { ...redisOptions({ name: 'keel-cache-notices' }), autoResubscribe: false });
    connection.on('error', (error: Error) => outage.failed(error));
    connection.on('close', () => setLive(false));
    connection.on('ready', () => {
      setLive(false);
      void subscribeAll(connection, [...listeners.keys()]).then((made) => {
        if (made && connection.status === 'ready') setLive(true);
      });
    });
    connection.on('pmessage', (pattern: string, channel: string, message: string) => {
      const local = pattern.slice(escapeGlob(channelPrefix).length);
      const notice = parseNotice(channel.slice(channelPrefix.length), message);
      if (notice === undefined) return;
      for (const listener of listeners.get(local) ?? []) {
        try {
          listener(notice);
        } catch (error) {
          options.logger.warn({ err: error, topic: notice.topic }, 'cache notice listener failed');
        }
      }
    });
    subscriber = connection;
    return connection;
  };

  /**
   * Keys whose write was lost to an outage (Redis not ready, or the command failed). Their entry may
   * be older than the read model (the projector could not refresh it), and a read without a
   * consistency token would serve it until its TTL, an hour. Once Redis answers again they are
   * removed, and the next read fills them from PostgreSQL. Past `MAX_UNWRITTEN` keys, every entry
   * under the prefix is removed instead. (Kept in memory: a process that stops during the outage
   * leaves its entries to their TTL.)
   */
  const unwritten = new Set<string>();
  let unwrittenOverflow = false;
  let repairing = false;
  const lost = (key: string): void => {
    if (unwrittenOverflow) return;
    if (unwritten.size >= MAX_UNWRITTEN) {
      unwritten.clear();
      unwrittenOverflow = true;
    } else unwritten.add(key);
  };
  const repair = (): void => {
    if (repairing || client.status !== 'ready' || (unwritten.size === 0 && !unwrittenOverflow)) return;
    repairing = true;
    const keys = [...unwritten];
    const all = unwrittenOverflow;
    unwritten.clear();
    unwrittenOverflow = false;
    (all ? removeEveryEntry(client, options.keyPrefix) : removeEntries(client, keys))
      .then(
        (removed) => options.logger.info({ removed }, 'Redis cache: removed the entries whose refresh was lost to the outage'),
        (error: unknown) => {
          for (const key of keys) lost(key);
          if (all) unwrittenOverflow = true;
          outage.failed(error);
        },
      )
      .finally(() => {
        repairing = false;
      });
  };
  client.on('ready', repair);

  /** Runs `op` if Redis is ready; on any failure (or when not ready) answers `fallback`. */
  const guard = async <T>(op: (redis: Redis) => Promise<T>, fallback: T): Promise<T> => {
    if (client.status !== 'ready') {
      outage.failed(new Error(`Redis connection is ${client.status}`));
      return fallback;
    }
    try {
      const result = await op(client);
      outage.recovered();
      repair();
      return result;
    } catch (error) {
      outage.failed(error);
      return fallback;
    }
  };

  await waitUntilReady(client);

  return {
    kind: 'redis',
    get: (key) =>
      guard(async (redis) => {
        const [position, json] = await redis.hmget(key, 'p', 'v');
        if (position === null || position === undefined || json === null || json === undefined || !/^\d+$/.test(position)) return undefined;
        const payload = parseJson(json);
        return isRecord(payload) ? { position: BigInt(position), payload } : undefined;
      }, undefined),
    set: async (key, entry: CacheEntry) => {
      if (entry.position < 0n) return false;
      // Serialised outside the guard: a payload that is not JSON is a bug, not an outage.
      const json = JSON.stringify(entry.payload);
      const outcome = await guard(async (redis) => ((await redis.eval(SET_IF_NEWER, 1, key, entry.position.toString(), json, ttlMs)) === 1 ? 'written' : 'older'), 'lost');
      if (outcome === 'lost') lost(key);
      return outcome === 'written';
    },
    delete: async (key) => {
      if (!(await guard(async (redis) => (await redis.del(key), true), false))) lost(key);
    },
    publish: async (notice: Notice) => {
      const message = JSON.stringify({ p: notice.position.toString(), d: notice.payload, ...(notice.traceparent === undefined ? {} : { t: notice.traceparent }) });
      return guard(async (redis) => void (await redis.publish(`${channelPrefix}${notice.topic}`, message)), undefined);
    },
    subscribe: async (pattern: string, listener: NoticeListener): Promise<Unsubscribe> => {
      const connection = subscriberConnection();
      let set = listeners.get(pattern);
      if (set === undefined) {
        set = new Set();
        listeners.set(pattern, set);
        await waitUntilReady(connection);
        // Not made (Redis down or failing): notices are not live until the next reconnection.
        if (!(await subscribeAll(connection, [pattern]))) setLive(false);
      }
      set.add(listener);
      const registered = set;
      return async () => {
        registered.delete(listener);
        if (registered.size > 0 || listeners.get(pattern) !== registered) return;
        listeners.delete(pattern);
        if (connection.status === 'ready') {
          await connection.punsubscribe(`${escapeGlob(channelPrefix)}${pattern}`).catch(() => {});
        }
      };
    },
    noticesLive: () => live && subscriber?.status === 'ready',
    watchNotices: (watcher: (live: boolean) => void) => {
      watchers.add(watcher);
      return () => void watchers.delete(watcher);
    },
    close: async () => {
      live = false;
      watchers.clear();
      listeners.clear();
      await Promise.all([client, ...(subscriber === undefined ? [] : [subscriber])].map(closeConnection));
    },
  };
};

/** Removes `keys` (without the prefix, which the client adds), in batches; resolves to how many existed. */
const removeEntries = async (client: Redis, keys: readonly string[]): Promise<number> => {
  let removed = 0;
  for (let i = 0; i < keys.length; i += REMOVE_BATCH) removed += await client.unlink(...keys.slice(i, i + REMOVE_BATCH));
  return removed;
};

/** Removes every entry under `keyPrefix` (SCAN, then UNLINK in batches); resolves to how many. */
const removeEveryEntry = async (client: Redis, keyPrefix: string): Promise<number> => {
  let removed = 0;
  let cursor = '0';
  do {
    // SCAN's pattern and answers are full key names: the client's prefix is not applied to them.
    const [next, keys] = await client.scan(cursor, 'MATCH', `${escapeGlob(keyPrefix)}*`, 'COUNT', REMOVE_BATCH);
    removed += await removeEntries(client, keys.map((key) => key.slice(keyPrefix.length)));
    cursor = next;
  } while (cursor !== '0');
  return removed;
};

/** Resolves when `connection` is ready, or after its connect timeout (2 s), whichever is first. */
const waitUntilReady = (connection: Redis): Promise<void> => {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      connection.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, connection.options.connectTimeout ?? 2_000);
    connection.on('ready', done);
  });
};

const closeConnection = async (connection: Redis): Promise<void> => {
  if (connection.status === 'ready') {
    await connection.quit().catch(() => connection.disconnect());
  } else {
    connection.disconnect();
  }
};
