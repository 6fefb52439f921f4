/**
 * DATABASE_READ_URL: queries read a read replica while projectors write to the primary, and a
 * consistency token is checked against the checkpoints as the replica sees them, so a query
 * never answers from a replica that has not replayed the token's projections, however far it lags.
 *
 * The replica is a real hot standby of the test server (test/support/pg-standby.ts: physical
 * streaming replication; logical replication would not carry the read models' runtime DDL), and
 * lag is made on purpose by pausing its WAL replay. The reads checked are the ones PostgreSQL
 * serves (orders, product lists), not the cached product/availability entries.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeConsistencyToken } from '../../../src/api/consistency-token.js';
import { readReplicaProbe } from '../../../src/api/health.js';
import { DEFAULT_STALL_SECONDS, createReadSide } from '../../../src/api/read-side-adapter.js';
import type { ReadSide } from '../../../src/api/read-side.js';
import { startKeel } from '../../../src/server/index.js';
import { createCacheChangeSink } from '../../../src/projections/cache/change-sink.js';
import { createMemoryReadCache } from '../../../src/projections/cache/memory-cache.js';
import type { ReadCache } from '../../../src/projections/cache/read-cache.js';
import { projectionStatuses, readControl, startProjections, watchProjections } from '../../../src/projections/engine/index.js';
import type { ProjectionWatch, Projections } from '../../../src/projections/engine/index.js';
import { ORDERS } from '../../../src/projections/read-models/orders/queries.js';
import { readModels } from '../../../src/projections/read-models/index.js';
import { orderTopic } from '../../../src/projections/read-models/topics.js';
import { loadConfig } from '../../../src/platform/config.js';
import { openDatabase } from '../../../src/platform/database.js';
import type { DatabaseHandle } from '../../../src/platform/database.js';
import { openReadReplica } from '../../../src/platform/read-replica.js';
import { TEST_JWT_SECRET, codes, gql, openApiHarness, silentLogger, tokenFor } from '../../support/api-app.js';
import type { ApiHarness } from '../../support/api-app.js';
import { postGraphql } from '../../support/api-server.js';
import { createTestDatabase } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';
import { startPgStandby } from '../../support/pg-standby.js';
import type { PgStandby } from '../../support/pg-standby.js';
import { openWriteSide } from '../../support/write-side.js';
import type { WriteSide } from '../../support/write-side.js';

const admin = tokenFor('ada', ['admin']);
const alice = tokenFor('alice', ['customer']);

const databaseOf = (url: string | undefined): string => new URL(url ?? '').pathname.slice(1);

/** The checkpoint of `name` as a database sees it. */
const checkpointOn = async (handle: DatabaseHandle, name: string): Promise<bigint> => {
  const { rows } = await sql<{ position: string }>`select position::text as position from keel_projections where name = ${name}`.execute(handle.db);
  return BigInt(rows[0]?.position ?? '-1');
};

/** What the standby logged refusing a write or a LISTEN (a hot standby logs every refused statement). */
const refusedWrites = (log: string): string[] => log.split('\n').filter((line) => /ERROR: +cannot execute .* (in a read-only transaction|during recovery)/.test(line));

describe('the API on a read replica (a hot standby of the test database)', () => {
  let standby: PgStandby;
  let owner: WriteSide;
  let cache: ReadCache;
  let projections: Projections;
  let replica: DatabaseHandle;
  let watch: ProjectionWatch;
  let readSide: ReadSide;
  let patient: ApiHarness;
  let impatient: ApiHarness;

  const mutate = async (query: string, token: string): Promise<string> => {
    const response = await gql(patient.app, query, undefined, token);
    expect(response.body.errors).toBeUndefined();
    const payload = Object.values(response.body.data ?? {})[0] as { consistencyToken: string };
    return payload.consistencyToken;
  };
  /** Order ids are the server's: each test's order is named by its idempotency key. */
  const orderIds = new Map<string, string>();
  const id = (name: string): string => {
    const orderId = orderIds.get(name);
    if (orderId === undefined) throw new Error(`no order placed as ${name}`);
    return orderId;
  };
  const placeOrder = async (name: string): Promise<string> => {
    const response = await gql(patient.app, `mutation { placeOrder(input: { idempotencyKey: "${name}", lines: [{ sku: "RR", quantity: 1, unitPrice: 100 }], currency: "EUR" }) { orderId consistencyToken } }`, undefined, alice);
    expect(response.body.errors).toBeUndefined();
    const payload = response.body.data?.placeOrder as { orderId: string; consistencyToken: string };
    orderIds.set(name, payload.orderId);
    return payload.consistencyToken;
  };
  const cancelOrder = (name: string) => mutate(`mutation { cancelOrder(input: { orderId: "${id(name)}", reason: "test" }) { consistencyToken } }`, alice);
  const orderQuery = 'query ($id: ID!, $t: String) { order(id: $id, consistencyToken: $t) { id status } }';
  /** The primary's projection has committed the token's position and the standby holds that WAL, unreplayed while paused. */
  const onPrimaryNotReplayed = async (token: string): Promise<void> => {
    await projections.waitFor(ORDERS, decodeConsistencyToken(token), { timeoutMs: 30_000 });
    await standby.received();
  };

  beforeAll(async () => {
    [standby, owner] = await Promise.all([startPgStandby(), openWriteSide('api_read_replica')]);
    cache = createMemoryReadCache({ logger: silentLogger() });
    projections = await startProjections({ handle: owner.handle, store: owner.store, projections: readModels, sink: createCacheChangeSink(cache), logger: silentLogger() });
    // The test database and the control tables reach the standby through its WAL.
    await standby.catchUp();
    replica = await openReadReplica(standby.urlOf(databaseOf(owner.url)), { poolSize: 4 });
    // As `keel serve` does with DATABASE_READ_URL: the watch polls the replica and never LISTENs.
    watch = await watchProjections(replica, { listen: false, pollMs: 50 });
    readSide = createReadSide({
      db: replica.db,
      cache,
      watch,
      status: () => projectionStatuses(owner.handle, owner.store, readModels),
      replica: { waitMs: 30_000, primaryCheckpoint: async (name) => (await readControl(owner.handle.db, name))?.position ?? -1n },
    });
    patient = await openApiHarness('api_read_replica', { side: owner, readSide, env: { CONSISTENCY_WAIT_MS: '30000' } });
    impatient = await openApiHarness('api_read_replica', { side: owner, readSide, env: { CONSISTENCY_WAIT_MS: '300' } });
    await mutate('mutation { listProduct(input: { productId: "rr", sku: "RR", name: "Replicated", price: 100, currency: "EUR" }) { consistencyToken } }', admin);
    await mutate('mutation { receiveStock(input: { sku: "RR", quantity: 50 }) { consistencyToken } }', admin);
  });
  afterAll(async () => {
    await standby?.resumeReplay().catch(() => {});
    await impatient?.close();
    await patient?.close();
    await watch?.close();
    await replica?.close();
    await projections?.stop();
    await owner?.close();
    await cache?.close();
    await standby?.stop();
  });

  it('reads its own writes from the replica', async () => {
    const t = await placeOrder('rr-1');
    const read = await gql(
      patient.app,
      'query ($t: String, $id: ID!) { order(id: $id, consistencyToken: $t) { status lines { sku } } products(first: 5, consistencyToken: $t) { edges { node { id name } } } }',
      { t, id: id('rr-1') },
      alice,
    );
    expect(read.body).toEqual({
      data: { order: { status: 'PENDING', lines: [{ sku: 'RR' }] }, products: { edges: [{ node: { id: 'rr', name: 'Replicated' } }] } },
    });
    expect(await checkpointOn(replica, ORDERS)).toBeGreaterThanOrEqual(decodeConsistencyToken(t));
  });

  it('makes a token wait while the replica lags, and fails with the lag code rather than answer stale', async () => {
    const placed = await placeOrder('rr-2');
    await gql(patient.app, orderQuery, { id: id('rr-2'), t: placed }, alice);
    await standby.pauseReplay();
    try {
      const t = await cancelOrder('rr-2');
      await onPrimaryNotReplayed(t);
      // The replica really lags: without a token it answers with what it has replayed.
      expect((await gql(patient.app, orderQuery, { id: id('rr-2') }, alice)).body).toEqual({ data: { order: { id: id('rr-2'), status: 'PENDING' } } });
      expect(await checkpointOn(replica, ORDERS)).toBeLessThan(decodeConsistencyToken(t));
      expect(await checkpointOn(owner.handle, ORDERS)).toBeGreaterThanOrEqual(decodeConsistencyToken(t));

      let settled = false;
      const waiting = gql(patient.app, orderQuery, { id: id('rr-2'), t }, alice).finally(() => (settled = true));
      const late = await gql(impatient.app, orderQuery, { id: id('rr-2'), t }, alice);
      expect(codes(late)).toEqual(['KEEL_ERR_PROJECTION_LAG_TIMEOUT']);
      expect(late.body.errors?.[0]?.extensions).toMatchObject({ projection: ORDERS, position: decodeConsistencyToken(t).toString() });
      expect(late.body.data).toEqual({ order: null });
      // Replay is still paused: the patient query cannot have been answered.
      expect(settled).toBe(false);

      await standby.resumeReplay();
      expect((await waiting).body).toEqual({ data: { order: { id: id('rr-2'), status: 'CANCELLED' } } });
    } finally {
      await standby.resumeReplay();
    }
  });

  // Regression: a change notice arrives from the primary's commit, before the replica replays it;
  // re-reading the order at once read the old state and dropped the change as not newer.
  it('delivers a subscription change the replica had not replayed when its notice arrived', async () => {
    const placed = decodeConsistencyToken(await placeOrder('rr-3'));
    await readSide.waitFor(placed, ['orders'], 30_000);
    const abort = new AbortController();
    const changes = readSide.orderChanges(id('rr-3'), { after: placed, signal: abort.signal })[Symbol.asyncIterator]();
    const next = changes.next(); // subscribes (the in-process cache registers at once), then waits
    const noticed: bigint[] = [];
    const unsubscribe = await cache.subscribe(orderTopic(id('rr-3')), (notice) => noticed.push(notice.position));
    await standby.pauseReplay();
    try {
      const t = await cancelOrder('rr-3');
      await onPrimaryNotReplayed(t);
      for (let i = 0; noticed.length === 0; i++) {
        if (i > 3000) throw new Error('no notice of the cancellation');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await standby.resumeReplay();
      // Before the fix this never resolved: the change was dropped.
      const first = await next;
      expect(first.done).toBe(false);
      expect(first.value).toMatchObject({ orderId: id('rr-3'), status: 'cancelled' });
    } finally {
      abort.abort();
      await unsubscribe();
      await changes.return?.(undefined);
      await standby.resumeReplay();
    }
  });

  // Regression: resuming reads the current state from the replica; a change whose notice was
  // published before the subscription began, and which the replica had not replayed, was lost.
  it('gives a resumed subscription a change announced before it subscribed that the replica had not replayed', async () => {
    const placed = decodeConsistencyToken(await placeOrder('rr-4'));
    await readSide.waitFor(placed, ['orders'], 30_000);
    const abort = new AbortController();
    await standby.pauseReplay();
    try {
      const cancelled = await cancelOrder('rr-4');
      await onPrimaryNotReplayed(cancelled);
      const changes = readSide.orderChanges(id('rr-4'), { after: placed, signal: abort.signal })[Symbol.asyncIterator]();
      let settled = false;
      const next = changes.next().finally(() => (settled = true));
      // While the replica stays behind (its watch times out), the subscription has read and
      // waits: before the fix it had read the old state by now, and its change was gone.
      await expect(watch.waitFor(ORDERS, decodeConsistencyToken(cancelled), { timeoutMs: 300 })).rejects.toThrow(/has not reached/);
      expect(settled).toBe(false);
      await standby.resumeReplay();
      const first = await next;
      expect(first.done).toBe(false);
      expect(first.value).toMatchObject({ orderId: id('rr-4'), status: 'cancelled' });
      abort.abort();
      await changes.return?.(undefined);
    } finally {
      abort.abort();
      await standby.resumeReplay();
    }
  });

  it('never writes to the replica (nor LISTENs on it), and cannot', async () => {
    // Everything above ran against the standby; a write, a LISTEN or a migration would have been
    // refused and logged there.
    expect(refusedWrites(await standby.log())).toEqual([]);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where application_name = 'keel-listen'`.execute(replica.db);
    expect(rows[0]?.n).toBe(0);

    await expect(sql`update keel_projections set position = position + 1`.execute(replica.db)).rejects.toThrow(/read-only transaction/);
    await expect(sql`create table keel_replica_probe (x int)`.execute(replica.db)).rejects.toThrow(/read-only transaction/);
    // The log check above is not blind: the refused writes are there now.
    expect(refusedWrites(await standby.log()).join('\n')).toMatch(/app=keel .*cannot execute UPDATE in a read-only transaction/);
  });

  it('opens the replica read-only even when DATABASE_READ_URL points at a writable server, keeping its options', async () => {
    const url = new URL(owner.url ?? '');
    url.searchParams.set('options', '-c statement_timeout=4321');
    const onPrimary = await openReadReplica(url.toString(), { poolSize: 1 });
    try {
      const { rows } = await sql<{ ro: string; timeout: string }>`select current_setting('default_transaction_read_only') as ro, current_setting('statement_timeout') as timeout`.execute(onPrimary.db);
      expect(rows).toEqual([{ ro: 'on', timeout: '4321ms' }]);
      await expect(sql`update keel_projections set position = position + 1`.execute(onPrimary.db)).rejects.toThrow(/read-only transaction/);
    } finally {
      await onPrimary.close();
    }
  });

  it('reports replica lag in GET /ready\'s probe only when replay falls behind', async () => {
    await expect(readReplicaProbe(replica.db, DEFAULT_STALL_SECONDS)()).resolves.toBeUndefined();
    await standby.pauseReplay();
    try {
      await onPrimaryNotReplayed(await cancelOrder('rr-1'));
      await expect(readReplicaProbe(replica.db, 0)()).rejects.toThrow(/^replaying \d+ s behind its primary \(limit 0 s\)$/);
    } finally {
      await standby.resumeReplay();
    }
  });

  describe('keel serve with DATABASE_READ_URL', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase('api_read_replica_serve');
      await standby.catchUp();
    });
    afterAll(async () => {
      await database?.drop();
    });

    it('answers queries from the replica, waits there for tokens and checks it in /ready', async () => {
      const config = loadConfig({
        DATABASE_URL: database.url,
        DATABASE_READ_URL: standby.urlOf(database.name),
        PORT: '0',
        LOG_LEVEL: 'silent',
        NODE_ENV: 'test',
        JWT_SECRET: TEST_JWT_SECRET,
        CONSISTENCY_WAIT_MS: '30000',
      });
      const logged = (await standby.log()).length;
      const server = await startKeel(config, { handleSignals: false });
      try {
        const listed = await postGraphql(server.url, 'mutation { listProduct(input: { productId: "srv", sku: "SRV", name: "Served", price: 5, currency: "EUR" }) { consistencyToken } }', undefined, admin);
        const t1 = (listed.body.data?.listProduct as { consistencyToken: string }).consistencyToken;
        const read = await postGraphql(server.url, 'query ($t: String) { products(first: 5, consistencyToken: $t) { edges { node { name } } } }', { t: t1 });
        expect(read.body).toEqual({ data: { products: { edges: [{ node: { name: 'Served' } }] } } });

        // An admin's token shows each check (the public sees the status only).
        const ready = await fetch(`${server.url}/ready`, { headers: { authorization: `Bearer ${admin}` } });
        expect(ready.status).toBe(200);
        expect(((await ready.json()) as { checks: Record<string, string> }).checks).toMatchObject({ database: 'ok', projections: 'ok', readReplica: 'ok' });

        await standby.pauseReplay();
        try {
          const renamed = await postGraphql(server.url, 'mutation { listProduct(input: { productId: "srv2", sku: "SRV2", name: "Second", price: 5, currency: "EUR" }) { consistencyToken } }', undefined, admin);
          const t2 = (renamed.body.data?.listProduct as { consistencyToken: string }).consistencyToken;
          // The primary has projected it (its checkpoint, read on the primary) and the standby holds the WAL.
          const primary = await openDatabase({ databaseUrl: database.url, dataDir: '', poolSize: 1 });
          try {
            for (let i = 0; (await checkpointOn(primary, 'catalog')) < decodeConsistencyToken(t2); i++) {
              if (i > 3000) throw new Error('the primary did not project the listing');
              await new Promise((resolve) => setTimeout(resolve, 10));
            }
          } finally {
            await primary.close();
          }
          await standby.received();
          const stale = await postGraphql(server.url, '{ products(first: 5) { edges { node { name } } } }');
          expect(stale.body).toEqual({ data: { products: { edges: [{ node: { name: 'Served' } }] } } });
          const waiting = postGraphql(server.url, 'query ($t: String) { products(first: 5, consistencyToken: $t) { edges { node { name } } } }', { t: t2 });
          await standby.resumeReplay();
          expect((await waiting).body).toEqual({ data: { products: { edges: [{ node: { name: 'Second' } }, { node: { name: 'Served' } }] } } });
        } finally {
          await standby.resumeReplay();
        }
      } finally {
        await server.close();
      }
      // The server's replica sessions wrote nothing there and LISTENed on nothing.
      expect(refusedWrites((await standby.log()).slice(logged))).toEqual([]);
    });
  });
});
