/**
 * Issue #10, "A stall nobody sees": a transaction open in ANOTHER database of the cluster (or a
 * prepared transaction) holds the PostgreSQL event store's horizon back, so projections stop. The
 * status must count the events waiting above the horizon as lag, name the holder (pid and
 * database, or the prepared transaction's gid), fail the readiness check naming it, show it in
 * `projectionStatus` (GraphQL) and `keel projections status`, and clear once it ends.
 *
 * The blocker holds the horizon of the whole shared cluster: tests running beside this file pause
 * their subscriptions meanwhile, so every blocker here is released as soon as its assertions ran.
 * The prepared-transaction case needs `max_prepared_transactions > 0` (PostgreSQL's default is 0)
 * and is skipped, saying so, where it is 0.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadSide } from '../../../src/api/read-side-adapter.js';
import { statusJson, statusText } from '../../../src/cli/projections-format.js';
import type { ReadSide } from '../../../src/api/read-side.js';
import { createMemoryReadCache } from '../../../src/projections/cache/index.js';
import { migrateProjections, projectionStatuses, startProjections, type ProjectionStatus, type Projections } from '../../../src/projections/engine/index.js';
import { gql, openApiHarness, tokenFor, type ApiHarness } from '../../support/api-app.js';
import { adminDatabaseUrl, createTestDatabase, type TestDatabase } from '../../support/database.js';
import { counted, testProjection } from '../../support/projection-test-model.js';
import { runCli } from '../../support/projector-spawn.js';
import { openWriteSide, type WriteSide } from '../../support/write-side.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const fast = { retryBaseMs: 5, standbyRetryMs: 200, idlePollMs: 100 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `read` until `done` holds or `timeoutMs` passes; returns the last value (the caller asserts on it). */
const eventually = async <T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(100);
  }
};

/** `SHOW max_prepared_transactions` on the test cluster (0: PREPARE TRANSACTION is refused). */
const maxPreparedTransactions = async (): Promise<number> => {
  const client = new pg.Client({ connectionString: adminDatabaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ max_prepared_transactions: string }>('show max_prepared_transactions');
    return Number(rows[0]?.max_prepared_transactions ?? '0');
  } finally {
    await client.end();
  }
};
const preparedAllowed = (await maxPreparedTransactions()) > 0;
if (!preparedAllowed) {
  process.stderr.write(
    '[horizon-stall] max_prepared_transactions is 0 on the test cluster: the prepared-transaction case is skipped. ' +
      "Enable it with: psql -c 'ALTER SYSTEM SET max_prepared_transactions = 10' && pg_ctlcluster --skip-systemctl-redirect 15 main restart\n",
  );
}

interface Blocker {
  readonly pid: number;
  end(): Promise<void>;
}

const APPLICATION = 'horizon-blocker';

/** A session in `url` that opens a transaction, takes a transaction id and stays idle in it. */
const openBlocker = async (url: string): Promise<Blocker> => {
  const client = new pg.Client({ connectionString: url, application_name: APPLICATION });
  await client.connect();
  await client.query('begin');
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid, pg_current_xact_id()');
  const pid = rows[0]?.pid;
  if (pid === undefined) throw new Error('no backend pid');
  let ended: Promise<void> | undefined;
  return {
    pid,
    end: () => (ended ??= client.query('rollback').then(() => client.end())),
  };
};

/** A prepared transaction in `url` that holds a transaction id (no session holds it afterwards). */
const prepareBlocker = async (url: string, gid: string): Promise<{ end(): Promise<void> }> => {
  const run = async (sqlText: string): Promise<void> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sqlText);
    } finally {
      await client.end();
    }
  };
  await run(`begin; select pg_current_xact_id(); prepare transaction '${gid}'`);
  let ended: Promise<void> | undefined;
  // ROLLBACK PREPARED must run in the database the transaction was prepared in.
  return { end: () => (ended ??= run(`rollback prepared '${gid}'`)) };
};

describe('a transaction elsewhere in the cluster holding the event store horizon (issue #10)', { timeout: 120_000 }, () => {
  let side: WriteSide;
  let other: TestDatabase;
  let engine: Projections;
  let readSide: ReadSide;
  let api: ApiHarness;
  const projection = testProjection();
  const blockers: { end(): Promise<void> }[] = [];
  // Reported at once (no 2 s grace) so the test holds the cluster's horizon as briefly as it can.
  const status = (cap?: number): Promise<ProjectionStatus[]> => projectionStatuses(side.handle, side.store, [projection], cap, { horizonStallSeconds: 0 });
  const only = async (cap?: number): Promise<ProjectionStatus> => {
    const [s] = await status(cap);
    if (!s) throw new Error('no status');
    return s;
  };
  const appendWhileBlocked = async (count: number): Promise<bigint> => {
    let last = -1n;
    for (let i = 0; i < count; i++) last = (await side.store.append(`blocked-${randomBytes(3).toString('hex')}`, [counted(1)])).position;
    return last;
  };
  const caughtUp = async (): Promise<void> => {
    const last = (await side.store.append('steady', [counted(1)])).position;
    await engine.waitFor(projection.name, last, { timeoutMs: 60_000 });
  };

  beforeAll(async () => {
    side = await openWriteSide('horizon_stall');
    other = await createTestDatabase('horizon_other');
    engine = await startProjections({ handle: side.handle, store: side.store, projections: [projection], logger: quiet, tuning: fast });
    readSide = createReadSide({ db: side.handle.db, cache: createMemoryReadCache({ logger: quiet }), watch: engine, status, stallSeconds: 0 });
    api = await openApiHarness('horizon_stall', { side, readSide });
    await caughtUp();
  });
  afterAll(async () => {
    // Never leave a transaction behind: a prepared one would outlive this process and the cluster restart.
    for (const blocker of blockers) await blocker.end().catch(() => {});
    await api?.close();
    await engine?.stop();
    await side?.close();
    await other?.drop();
  });

  it('counts the events waiting behind an idle-in-transaction session of another database, names it, fails readiness, then recovers', async () => {
    const before = await only();
    expect(before.lagEvents).toBe(0);
    expect(before.stalledBy ?? null).toBeNull();
    await expect(readSide.checkHealthy()).resolves.toBeUndefined();

    const blocker = await openBlocker(other.url);
    blockers.push(blocker);
    try {
      const last = await appendWhileBlocked(5);
      // Other tests on the shared cluster can briefly hold an older transaction: wait for ours.
      const stalled = await eventually(only, (s) => s.lagEvents === 5 && s.stalledBy?.pid === blocker.pid);
      expect(stalled.lagEvents).toBe(5);
      expect(stalled.lagEventsCapped).toBe(false);
      expect(stalled.lagSeconds).toBeGreaterThan(0);
      expect(stalled.position < last).toBe(true);
      expect(stalled.stalledBy).toMatchObject({
        pid: blocker.pid,
        database: other.name,
        application: APPLICATION,
        state: 'idle in transaction',
        preparedGid: null,
      });
      expect(stalled.stalledBy?.since).toBeInstanceOf(Date);
      expect(stalled.stalledBy?.ageSeconds).toBeGreaterThanOrEqual(0);
      expect(stalled.stalledBy?.waitingSeconds).toBeGreaterThanOrEqual(0);
      expect(stalled.stalledBy?.xid).toMatch(/^\d+$/);

      // /ready's cheap path (a lag cap of 1) still sees the waiting events and the holder.
      const cheap = await only(1);
      expect(cheap.lagEvents).toBe(1);
      expect(cheap.lagEventsCapped).toBe(true);
      expect(cheap.stalledBy?.pid).toBe(blocker.pid);
      await expect(readSide.checkHealthy()).rejects.toThrow(`event store horizon held by pid ${blocker.pid} (database ${other.name}, application ${APPLICATION}, idle in transaction since `);

      const response = await gql(
        api.app,
        '{ projectionStatus { name lagEvents stalledBy { xid pid database application state since ageSeconds preparedGid waitingSeconds } } }',
        undefined,
        tokenFor('ops', ['admin']),
      );
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data?.projectionStatus).toEqual([
        {
          name: projection.name,
          lagEvents: 5,
          stalledBy: {
            xid: expect.stringMatching(/^\d+$/),
            pid: blocker.pid,
            database: other.name,
            application: APPLICATION,
            state: 'idle in transaction',
            since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
            ageSeconds: expect.any(Number),
            preparedGid: null,
            waitingSeconds: expect.any(Number),
          },
        },
      ]);
    } finally {
      await blocker.end();
    }

    await caughtUp();
    const after = await only();
    expect(after).toMatchObject({ lagEvents: 0, lagSeconds: 0, stalledBy: null });
    await expect(readSide.checkHealthy()).resolves.toBeUndefined();
  });

  it.skipIf(!preparedAllowed)('names a prepared transaction of another database by its gid, then recovers after ROLLBACK PREPARED', async () => {
    const gid = `keel-horizon-${randomBytes(4).toString('hex')}`;
    const blocker = await prepareBlocker(other.url, gid);
    blockers.push(blocker);
    try {
      await appendWhileBlocked(3);
      const stalled = await eventually(only, (s) => s.lagEvents === 3 && s.stalledBy?.preparedGid === gid);
      expect(stalled.lagEvents).toBe(3);
      expect(stalled.stalledBy).toMatchObject({ preparedGid: gid, database: other.name, pid: null, state: 'prepared' });
      expect(stalled.stalledBy?.since).toBeInstanceOf(Date);
      await expect(readSide.checkHealthy()).rejects.toThrow(`event store horizon held by prepared transaction '${gid}' (database ${other.name}, prepared `);
      expect(statusText([stalled])).toContain(`End it (its work is rolled back) with: ROLLBACK PREPARED '${gid}' in database ${other.name}`);
    } finally {
      await blocker.end();
    }
    await caughtUp();
    expect(await only()).toMatchObject({ lagEvents: 0, stalledBy: null });
  });

  it('keel projections status names the holder and the statement that ends it', { timeout: 180_000 }, async () => {
    const blocker = await openBlocker(other.url);
    blockers.push(blocker);
    try {
      await appendWhileBlocked(2);
      // The CLI reports a stall once events have waited DEFAULT_HORIZON_STALL_SECONDS (2 s).
      const held = await eventually(
        () => projectionStatuses(side.handle, side.store, [projection]),
        ([s]) => s?.stalledBy?.pid === blocker.pid,
      );
      expect(held[0]?.stalledBy?.pid).toBe(blocker.pid);
      // One process (each takes seconds to start, all the while holding the shared cluster's horizon).
      const text = await runCli(['projections', 'status'], { DATABASE_URL: side.url ?? '' });
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/test_counts\s+running\s+1\s+\d+\s+2\s/);
      expect(text.stdout).toContain(`! test_counts: events committed`);
      expect(text.stdout).toContain(`wait behind pid ${blocker.pid} (database ${other.name}, application ${APPLICATION}, idle in transaction since `);
      expect(text.stdout).toContain(`End it (its work is rolled back) with: SELECT pg_terminate_backend(${blocker.pid})`);
      // What `status --json` prints.
      const [entry] = JSON.parse(JSON.stringify(held.map(statusJson))) as { lagEvents: number; stalledBy: Record<string, unknown> | null }[];
      expect(entry?.lagEvents).toBe(2);
      expect(entry?.stalledBy).toMatchObject({ pid: blocker.pid, database: other.name, application: APPLICATION, preparedGid: null, since: expect.stringMatching(/^\d{4}-/) });
    } finally {
      await blocker.end();
    }
    await caughtUp();
    expect(await only()).toMatchObject({ lagEvents: 0, stalledBy: null });
  });

  it('reports no holder where there is no horizon to hold (EventStoreDB) or no other session (PGlite)', async () => {
    for (const target of ['esdb', 'pglite'] as const) {
      const elsewhere = await openWriteSide(`horizon_${target}`, target);
      try {
        await migrateProjections(elsewhere.handle);
        await elsewhere.store.append('quiet', [counted(1)]);
        expect(await (elsewhere.store.horizonStall?.() ?? null), target).toBeNull();
        const [s] = await projectionStatuses(elsewhere.handle, elsewhere.store, [projection], undefined, { horizonStallSeconds: 0 });
        expect(s, target).toMatchObject({ state: 'not-started', lagEvents: 1, stalledBy: null });
      } finally {
        await elsewhere.close();
      }
    }
  });
});
