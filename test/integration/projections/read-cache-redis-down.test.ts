/**
 * Redis down means slower reads, not failed reads. This file starts a redis-server of its own on a
 * free port (the shared one on 6379 serves other test files), reads through the cache, kills that
 * server mid-test, keeps reading (from PostgreSQL, bounded by the fail-fast client options),
 * restarts it and sees the cache used again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadSide } from '../../../src/api/read-side-adapter.js';
import type { DatabaseHandle } from '../../../src/platform/database.js';
import { openDatabase } from '../../../src/platform/database.js';
import { createCacheChangeSink } from '../../../src/projections/cache/change-sink.js';
import { readAvailabilityCached, readProductCached } from '../../../src/projections/cache/cached-readers.js';
import { createReadCache } from '../../../src/projections/cache/create-read-cache.js';
import type { ReadCache } from '../../../src/projections/cache/read-cache.js';
import { liveSchemaOf } from '../../../src/projections/projection.js';
import { catalogProjection } from '../../../src/projections/read-models/catalog/index.js';
import { createTestDatabase, redisTestPrefix, type TestDatabase } from '../../support/database.js';
import { applyBatches, resetSchema } from '../../support/projection-spec.js';
import { collectNotices, recordingLogger } from '../../support/read-model-cache.js';
import { history, historyFrom, listed, priceChanged, received, tracked } from '../../support/read-model-events.js';

const freePort = async (): Promise<number> => {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
};

const answersPing = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });

/** Polls `check` until true; rejects after `ms` (a hang guard, not a timing assertion). */
const eventually = async (what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** Rejects if `promise` has not settled within `ms`: a read that hangs fails the test instead of stalling it. */
const bounded = <T>(promise: Promise<T>, ms = 10_000): Promise<T> =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`hung for ${ms} ms`)), ms).unref())]);

describe('reads while Redis is down (a dedicated redis-server, killed and restarted)', () => {
  let port: number;
  let redis: ChildProcess | undefined;
  let database: TestDatabase;
  let handle: DatabaseHandle;
  let cache: ReadCache;
  const logger = recordingLogger();

  const startRedis = async (): Promise<void> => {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    redis = child;
    await eventually('redis-server to answer', () => answersPing(port));
  };
  const killRedis = async (): Promise<void> => {
    const child = redis;
    if (child === undefined || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    redis = undefined;
  };
  const commitPrice = async (position: bigint, price: number, previous: number) =>
    applyBatches(handle.db, catalogProjection, historyFrom(position, priceChanged('p1', price, previous)));

  beforeAll(async () => {
    port = await freePort();
    await startRedis();
    database = await createTestDatabase('read_cache_down');
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    await resetSchema(handle.db, catalogProjection, liveSchemaOf('catalog'));
    await applyBatches(handle.db, catalogProjection, history(listed('p1', 'SKU-1', 'Mug', 1000), tracked('SKU-1', 'p1'), received('SKU-1', 5)));
    cache = await createReadCache({ redisUrl: `redis://127.0.0.1:${port}`, keyPrefix: redisTestPrefix('read-cache-down'), logger });
  });
  afterAll(async () => {
    await cache.close();
    await killRedis();
    await handle.close();
    await database.drop();
  });

  it('reads through Redis, keeps answering from PostgreSQL while it is down, and uses it again once back', async () => {
    const notices = await collectNotices(cache, 'product:*');

    // Up: the first read fills the cache; a change behind its back shows the second read is cached.
    expect(await readProductCached(handle.db, cache, 'p1')).toMatchObject({ price: 1000 });
    expect(await cache.get('product:p1')).toMatchObject({ position: 300n });
    await commitPrice(400n, 1100, 1000);
    expect(await readProductCached(handle.db, cache, 'p1')).toMatchObject({ price: 1000 });

    // Down: every read succeeds, from PostgreSQL, without hanging; the sink and notices fail quietly.
    await killRedis();
    for (let i = 0; i < 20; i += 1) {
      expect(await bounded(readProductCached(handle.db, cache, 'p1'))).toMatchObject({ price: 1100, updatedPosition: 400n });
      expect(await bounded(readAvailabilityCached(handle.db, cache, 'SKU-1'))).toMatchObject({ available: 5 });
    }
    await commitPrice(500n, 1200, 1100);
    expect(await bounded(readProductCached(handle.db, cache, 'p1'))).toMatchObject({ price: 1200 });
    await bounded(createCacheChangeSink(cache).publish([{ topic: 'product:p1', position: 500n, payload: {} }]));
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);

    // Back (empty, as after a restart): the client reconnects by itself; reads fill and use the cache again.
    await startRedis();
    await eventually('the cache to reconnect', () => cache.set('probe', { position: 1n, payload: {} }));
    expect(await readProductCached(handle.db, cache, 'p1')).toMatchObject({ price: 1200 });
    expect(await cache.get('product:p1')).toMatchObject({ position: 500n, payload: { price: 1200 } });
    await commitPrice(600n, 1300, 1200);
    expect(await readProductCached(handle.db, cache, 'p1')).toMatchObject({ price: 1200 });
    expect(await readProductCached(handle.db, cache, 'p1', { minPosition: 600n })).toMatchObject({ price: 1300 });

    // Notices flow again: the subscription was made anew on reconnection.
    await eventually('notices to flow again', async () => {
      await cache.publish({ topic: 'product:p1', position: 600n, payload: { price: 1300 } });
      await new Promise((r) => setTimeout(r, 50));
      return notices.seen.some((n) => n.position === 600n);
    });
    await eventually('the removal to be logged', async () => logger.lines.some((l) => l.msg.startsWith('Redis cache: removed')));
    // One warning for the outage; once back, one line says so and one that the entries whose
    // refresh was lost (the sink's write of 500) were removed, in either order.
    expect(logger.lines[0]?.level).toBe('warn');
    expect(logger.lines.slice(1).map((l) => `${l.level} ${l.msg}`).sort()).toEqual([
      'info Redis cache available again',
      'info Redis cache: removed the entries whose refresh was lost to the outage',
    ]);
    await notices.unsubscribe();
  });

  // A subscription heard of changes only through notices: with Redis down for 10 s in a flash
  // sale, subscribers whose order changed meanwhile never heard of it, and waited until they gave up.
  it('keeps a subscription delivering while Redis is down (it reads the read model instead), and after', async () => {
    const side = createReadSide({ db: handle.db, cache, watch: { waitFor: async () => undefined }, status: async () => [], near: false });
    const controller = new AbortController();
    const changes = side.availabilityChanges('SKU-1', { signal: controller.signal })[Symbol.asyncIterator]();
    try {
      // Subscribed (and asleep, waiting for a notice) while Redis is up.
      const first = changes.next();
      await eventually('the subscription to be made', async () => cache.noticesLive?.() === true);
      await new Promise((r) => setTimeout(r, 100));
      await killRedis();
      await eventually('the cache to see its notices down', async () => cache.noticesLive?.() === false);
      await applyBatches(handle.db, catalogProjection, historyFrom(700n, received('SKU-1', 3)));
      // The gap itself may deliver the state as it was (the subscriber had none yet): then the change.
      let seen = (await bounded(first, 10_000)).value;
      if (seen?.updatedPosition !== 700n) seen = (await bounded(changes.next(), 10_000)).value;
      expect(seen).toMatchObject({ sku: 'SKU-1', available: 8, updatedPosition: 700n });
      await applyBatches(handle.db, catalogProjection, historyFrom(800n, received('SKU-1', 2)));
      expect((await bounded(changes.next(), 10_000)).value).toMatchObject({ available: 10, updatedPosition: 800n });

      // Back: a change whose notice was lost (its publisher had not reconnected yet) is still read,
      // in the window after notices return; later changes come as notices.
      await startRedis();
      await eventually('notices to be live again', async () => cache.noticesLive?.() === true);
      await applyBatches(handle.db, catalogProjection, historyFrom(900n, received('SKU-1', 1)));
      expect((await bounded(changes.next(), 10_000)).value).toMatchObject({ available: 11, updatedPosition: 900n });
      await applyBatches(handle.db, catalogProjection, historyFrom(1000n, received('SKU-1', 1)));
      const view = { sku: 'SKU-1', productId: 'p1', received: 12, reserved: 0, sold: 0, available: 12, updatedPosition: '1000' };
      await createCacheChangeSink(cache).publish([{ topic: 'availability:SKU-1', position: 1000n, payload: view }]);
      expect((await bounded(changes.next(), 10_000)).value).toMatchObject({ available: 12, updatedPosition: 1000n });
    } finally {
      controller.abort();
      await changes.return?.();
    }
  });
});
