/**
 * The Redis connection (ioredis). Redis holds derived data only (caches, notices, rate-limit
 * counters), so a Redis outage must make Keel slower, never wrong or down: commands fail fast while
 * disconnected (no offline queue, one try per request) instead of piling up, and ioredis keeps
 * reconnecting in the background with a capped backoff.
 */
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';

export type { Redis } from 'ioredis';

export interface OpenRedisOptions {
  /** Prepended to every key (tests give each file its own). Pub/sub channels are not prefixed by ioredis. */
  readonly keyPrefix?: string;
  /** A connection name shown by `CLIENT LIST`. */
  readonly name?: string;
  /** Called on connection errors (ioredis emits them on every failed reconnect); defaults to ignoring them. */
  readonly onError?: (error: Error) => void;
}

const RECONNECT_MAX_MS = 2_000;

export const redisOptions = (options: OpenRedisOptions = {}): RedisOptions => ({
  lazyConnect: false,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 2_000,
  commandTimeout: 2_000,
  // A connection that stops answering (a partition: no reset, no refusal) is dropped after 2 s of
  // silence and reconnected; meanwhile commands fail at once instead of each waiting out its timeout.
  socketTimeout: 2_000,
  // ioredis re-sends, after a reconnection, the commands a lost connection left unanswered, even
  // those whose caller was already told they failed (timed out): a cache write from before an
  // outage would then land after it, over the entry removed since. A failed command stays failed.
  autoResendUnfulfilledCommands: false,
  retryStrategy: (attempt: number) => Math.min(RECONNECT_MAX_MS, 50 * 2 ** Math.min(attempt, 6)),
  ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
  ...(options.name === undefined ? {} : { connectionName: options.name }),
});

/** Opens a client to `url`; resolves once connected, or rejects after `connectTimeout`. */
export const openRedis = async (url: string, options: OpenRedisOptions = {}): Promise<Redis> => {
  const client = new Redis(url, redisOptions(options));
  client.on('error', options.onError ?? (() => {}));
  if (client.status !== 'ready') {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        client.disconnect();
        reject(new Error(`Redis at ${redactRedisUrl(url)} did not answer within 2 s`));
      }, 2_000);
      const onReady = (): void => {
        cleanup();
        resolve();
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        client.off('ready', onReady);
      };
      client.on('ready', onReady);
    });
  }
  return client;
};

/** The URL with its password replaced, for logs and error messages. */
export const redactRedisUrl = (url: string): string => {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable Redis URL)';
  }
};

/**
 * A connection for a readiness probe only: it does not wait for Redis at startup (a probe reports
 * it down instead) and keeps reconnecting like every other.
 */
export const redisProbe = (url: string): { ping(): Promise<unknown>; close(): Promise<void> } => {
  const client = new Redis(url, redisOptions({ name: 'keel-probe' }));
  client.on('error', () => {});
  return {
    ping: () => client.ping(),
    close: () => client.quit().then(() => undefined, () => client.disconnect()),
  };
};
