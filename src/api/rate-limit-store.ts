/**
 * The Redis-backed rate-limit store, without a Redis round trip per request: token leasing. A
 * client's counter in Redis (`<nameSpace><key>`, expiring with the window) counts the requests
 * GRANTED to all processes in the window. A process takes a block of the budget at once (a Lua
 * script: INCRBY capped at the limit, the window's TTL set when the counter is created) and spends
 * it locally; when the block is spent it takes another. So the requests allowed across processes
 * never exceed the limit within a window, and a client may be refused early by at most the unspent
 * blocks other processes hold. A block is 1% of the limit (at least 1): with a small limit every
 * request still goes to Redis, exact. Once Redis answers "nothing left", the process refuses the
 * client locally until the window's end.
 *
 * A block is spent only within the window it was taken in (its end is read from Redis' PTTL,
 * counted from before the call, so never later than the counter's expiry). Concurrent requests of
 * one client wait for one call rather than each taking a block. Redis errors reach @fastify/rate-
 * limit's `skipOnError` (not limited rather than failed), as with its own RedisStore.
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

/**
 * KEYS[1] counter; ARGV: window (ms), limit, block. Returns { taken, granted in the window, PTTL }.
 */
const LEASE = `
local granted = tonumber(redis.call('GET', KEYS[1]) or '0')
local limit = tonumber(ARGV[2])
local taken = 0
if granted < limit then
  taken = math.min(tonumber(ARGV[3]), limit - granted)
  granted = redis.call('INCRBY', KEYS[1], taken)
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 and granted > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { taken, granted, ttl }
`;

/** Requests a process takes from Redis at once: 1% of the limit, at least 1. */
export const leaseBlockSize = (max: number): number => Math.max(1, Math.floor(max / 100));

/** Clients whose lease a process remembers (least recently used first out: its unspent block is lost). */
export const DEFAULT_LEASED_CLIENTS = 10_000;

interface Lease {
  /** Requests of the block not spent yet. */
  remaining: number;
  /** Granted to all processes in the window, as Redis last answered (this block included). */
  granted: number;
  /** Local clock (ms): the block is spent only before this. */
  windowEnd: number;
  /** Redis answered "nothing left": refused until `windowEnd`. */
  exhausted: boolean;
}

interface Result {
  readonly current: number;
  readonly ttl: number;
}
type Callback = (error: Error | null, result?: Result) => void;

export interface LeasedStoreOptions {
  readonly redis: Redis;
  /** Prefix of the counters' keys (the plugin's `nameSpace`). */
  readonly nameSpace: string;
  readonly maxClients?: number;
  /** The clock (ms), for tests. */
  readonly now?: () => number;
}

type LeaseReply = [number, number, number];

export class LeasedRedisStore implements FastifyRateLimitStore {
  private readonly leases: LRUCache<string, Lease>;
  private readonly pending = new Map<string, Promise<Lease | Error>>();
  private readonly now: () => number;

  constructor(private readonly options: LeasedStoreOptions) {
    this.leases = new LRUCache<string, Lease>({ max: options.maxClients ?? DEFAULT_LEASED_CLIENTS });
    this.now = options.now ?? Date.now;
  }

  incr(key: string, callback: Callback, timeWindow: number, max: number): void {
    const now = this.now();
    const lease = this.leases.get(key);
    if (lease !== undefined && now < lease.windowEnd) {
      if (lease.remaining > 0) {
        lease.remaining -= 1;
        callback(null, { current: lease.granted - lease.remaining, ttl: lease.windowEnd - now });
        return;
      }
      if (lease.exhausted) {
        callback(null, { current: max + 1, ttl: lease.windowEnd - now });
        return;
      }
    }
    let pending = this.pending.get(key);
    if (pending === undefined) {
      pending = this.take(key, timeWindow, max).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    void pending.then((taken) => {
      if (taken instanceof Error) return callback(taken);
      if (taken.remaining > 0) {
        taken.remaining -= 1;
        return callback(null, { current: taken.granted - taken.remaining, ttl: Math.max(0, taken.windowEnd - this.now()) });
      }
      if (taken.exhausted) return callback(null, { current: max + 1, ttl: Math.max(0, taken.windowEnd - this.now()) });
      // Other requests of this client waiting on the same call spent the block: take another.
      this.incr(key, callback, timeWindow, max);
    });
  }

  /** Takes a block from Redis as the lease of `key`; resolves with it, or with the error. */
  private async take(key: string, timeWindow: number, max: number): Promise<Lease | Error> {
    const before = this.now();
    try {
      const reply = (await this.options.redis.eval(LEASE, 1, `${this.options.nameSpace}${key}`, timeWindow, max, leaseBlockSize(max))) as LeaseReply;
      const [taken, granted, ttl] = reply.map(Number) as LeaseReply;
      const lease: Lease = { remaining: taken, granted, windowEnd: before + Math.max(0, ttl), exhausted: taken === 0 };
      this.leases.set(key, lease);
      return lease;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  /** A route's own limit (`config.rateLimit`): its counters under `<nameSpace><METHOD><url>-`, as RedisStore's. */
  child(routeOptions: object): FastifyRateLimitStore {
    const route: unknown = Reflect.get(routeOptions, 'routeInfo');
    const part = (name: string): string => (typeof route === 'object' && route !== null ? String(Reflect.get(route, name)) : '');
    return new LeasedRedisStore({ ...this.options, nameSpace: `${this.options.nameSpace}${part('method')}${part('url')}-` });
  }
}

/** The store class @fastify/rate-limit's `store` option takes (it constructs it with its own options). */
export const leasedRedisStore = (options: LeasedStoreOptions): FastifyRateLimitStoreCtor =>
  class extends LeasedRedisStore {
    /** The plugin passes its own options; the store was configured by the factory. */
    constructor(_pluginOptions?: unknown) {
      super(options);
    }
  };
