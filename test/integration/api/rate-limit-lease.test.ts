/**
 * The leased rate-limit store (src/api/rate-limit-store.ts) on the real Redis: each store is one
 * API process (its own connection) taking blocks of a client's budget. The budget is shared
 * exactly, a block is 1% of the limit (at least 1), a block is never spent past its window, and
 * Redis down means "not limited" (the plugin's skipOnError), never a failed request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeasedRedisStore, leaseBlockSize } from '../../../src/api/rate-limit-store.js';
import { openRedis } from '../../../src/platform/redis.js';
import type { Redis } from '../../../src/platform/redis.js';
import { codes, gql, openApiHarness, tokenFor } from '../../support/api-app.js';
import type { ApiHarness } from '../../support/api-app.js';
import { redisTestPrefix, redisTestUrl } from '../../support/database.js';
import { startTcpProxy, type TcpProxy } from '../../support/event-store-tcp-proxy.js';

const WINDOW_MS = 600_000;

interface Outcome {
  readonly current: number;
  readonly ttl: number;
}

const incr = (store: LeasedRedisStore, key: string, max: number, windowMs = WINDOW_MS): Promise<Outcome> =>
  new Promise((resolve, reject) => {
    store.incr(key, (error, result) => (error === null && result !== undefined ? resolve(result) : reject(error ?? new Error('no result'))), windowMs, max);
  });

/** Sends `n` requests of `key` through `store` at once; how many were allowed (as the plugin decides: current <= max). */
const allowed = async (store: LeasedRedisStore, key: string, max: number, n: number): Promise<number> =>
  (await Promise.all(Array.from({ length: n }, () => incr(store, key, max)))).filter((o) => o.current <= max).length;

const redisUrlWithPort = (): string => {
  const url = new URL(redisTestUrl());
  if (url.port === '') url.port = '6379';
  return url.toString();
};

/** Polls `check` until true; rejects after `ms` (a hang guard, not a timing assertion). */
const eventually = async (what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('leased rate limiting (Redis)', () => {
  const nameSpace = `${redisTestPrefix('api-rate-lease')}rate-limit:`;
  let redisA: Redis;
  let redisB: Redis;
  let a: LeasedRedisStore;
  let b: LeasedRedisStore;

  beforeAll(async () => {
    redisA = await openRedis(redisTestUrl());
    redisB = await openRedis(redisTestUrl());
    a = new LeasedRedisStore({ redis: redisA, nameSpace });
    b = new LeasedRedisStore({ redis: redisB, nameSpace });
  });
  afterAll(async () => {
    const keys = await redisA.keys(`${nameSpace}*`);
    if (keys.length > 0) await redisA.del(...keys);
    redisA.disconnect();
    redisB.disconnect();
  });

  it('takes blocks of 1% of the limit, at least 1', () => {
    expect([1, 5, 99, 100, 199, 200, 1_000, 60_000, 1_000_000].map(leaseBlockSize)).toEqual([1, 1, 1, 1, 1, 2, 10, 600, 10_000]);
  });

  it('shares one budget exactly between two processes: never more than the limit in a window', async () => {
    const max = 1_000;
    // Concurrent bursts on both, more than the budget in all.
    const [fromA, fromB] = await Promise.all([allowed(a, 'ip:burst', max, 700), allowed(b, 'ip:burst', max, 700)]);
    expect(fromA + fromB).toBe(max);
    expect(Number(await redisA.get(`${nameSpace}ip:burst`))).toBe(max);
    expect((await incr(a, 'ip:burst', max)).current).toBeGreaterThan(max);
    expect((await incr(b, 'ip:burst', max)).current).toBeGreaterThan(max);
    // The counter lives for the window.
    const ttl = await redisA.pttl(`${nameSpace}ip:burst`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(WINDOW_MS);
  });

  it('goes to Redis on each request while a block is spent, one block at a time', async () => {
    const max = 1_000;
    await incr(a, 'ip:blocks', max);
    expect(await redisA.get(`${nameSpace}ip:blocks`)).toBe('10');
    for (let i = 0; i < 9; i += 1) await incr(a, 'ip:blocks', max);
    expect(await redisA.get(`${nameSpace}ip:blocks`)).toBe('10');
    await incr(a, 'ip:blocks', max);
    expect(await redisA.get(`${nameSpace}ip:blocks`)).toBe('20');
  });

  it('with a small limit every request counts in Redis: the 6th across two processes is refused', async () => {
    const max = 5;
    const outcomes: Outcome[] = [];
    for (const store of [a, b, a, b, a]) {
      outcomes.push(await incr(store, 'ip:small', max));
      expect(await redisA.get(`${nameSpace}ip:small`)).toBe(String(outcomes.length));
    }
    expect(outcomes.map((o) => o.current)).toEqual([1, 2, 3, 4, 5]);
    expect((await incr(b, 'ip:small', max)).current).toBeGreaterThan(max);
    expect((await incr(a, 'ip:small', max)).current).toBeGreaterThan(max);
  });

  it('refuses a client early by at most the unspent blocks other processes hold', async () => {
    const max = 1_000;
    expect((await incr(a, 'ip:early', max)).current).toBeLessThanOrEqual(max);
    // A holds 9 of its block unspent: B gets the other 990, then A still spends its 9.
    expect(await allowed(b, 'ip:early', max, 1_000)).toBe(max - 10);
    expect(await allowed(a, 'ip:early', max, 20)).toBe(9);
  });

  it('spends a block only within its window, and starts again with a new window', async () => {
    let clock = 0;
    const timed = new LeasedRedisStore({ redis: redisA, nameSpace, now: () => clock });
    const max = 1_000;
    const first = await incr(timed, 'ip:window', max);
    expect(first.ttl).toBeGreaterThan(0);
    expect(await redisA.get(`${nameSpace}ip:window`)).toBe('10');
    // Past the end of the window the lease was taken in (by this process's clock): not spent, Redis asked.
    clock += first.ttl;
    await incr(timed, 'ip:window', max);
    expect(await redisA.get(`${nameSpace}ip:window`)).toBe('20');
    // The window ends in Redis (a short one here): the budget is whole again.
    const short = new LeasedRedisStore({ redis: redisA, nameSpace });
    for (let i = 0; i < 3; i += 1) expect((await incr(short, 'ip:short', 3, 300)).current).toBe(i + 1);
    expect((await incr(short, 'ip:short', 3, 300)).current).toBeGreaterThan(3);
    await eventually('the window to end', async () => (await incr(short, 'ip:short', 3, 300)).current <= 3);
    expect(Number(await redisA.get(`${nameSpace}ip:short`))).toBeGreaterThanOrEqual(1);
  });
});

describe('leased rate limiting while Redis is down', () => {
  let proxy: TcpProxy;
  let redis: Redis;
  let h: ApiHarness;
  const prefix = redisTestPrefix('api-rate-lease-down');

  beforeAll(async () => {
    proxy = await startTcpProxy(redisUrlWithPort());
    redis = await openRedis(proxy.url);
    h = await openApiHarness('api_rate_lease_down', { redis, env: { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '600000', REDIS_KEY_PREFIX: prefix } });
  });
  afterAll(async () => {
    await h?.close();
    redis?.disconnect();
    await proxy?.close();
    const cleanup = await openRedis(redisTestUrl());
    const keys = await cleanup.keys(`${prefix}*`);
    if (keys.length > 0) await cleanup.del(...keys);
    cleanup.disconnect();
  });

  it('limits while Redis is up, lets requests through (not failed) while it is down, and limits again once back', async () => {
    const carol = tokenFor('carol', ['customer']);
    const query = '{ __typename }';
    expect((await gql(h.app, query, undefined, carol)).status).toBe(200);
    expect((await gql(h.app, query, undefined, carol)).status).toBe(200);
    expect(codes(await gql(h.app, query, undefined, carol))).toEqual(['KEEL_ERR_RATE_LIMITED']);

    proxy.cut();
    await eventually('the connection to be lost', async () => redis.status !== 'ready');
    // Another client: no lease held, Redis unreachable: served, not limited, not failed.
    const dave = tokenFor('dave', ['customer']);
    for (let i = 0; i < 5; i += 1) {
      const response = await gql(h.app, query, undefined, dave);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ data: { __typename: 'Query' } });
    }

    proxy.resume();
    await eventually('Redis to reconnect', async () => redis.status === 'ready');
    const erin = tokenFor('erin', ['customer']);
    expect((await gql(h.app, query, undefined, erin)).status).toBe(200);
    expect((await gql(h.app, query, undefined, erin)).status).toBe(200);
    expect(codes(await gql(h.app, query, undefined, erin))).toEqual(['KEEL_ERR_RATE_LIMITED']);
  });
});
