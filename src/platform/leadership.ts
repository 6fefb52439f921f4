/**
 * One active worker per key across processes (a projection's runner, the order process manager).
 * On PostgreSQL: a session-level advisory lock held on a dedicated connection (not the pool) for
 * as long as this process leads; standbys retry every `retryMs`. If the leader dies or its
 * connection drops, PostgreSQL releases the lock and a standby takes over. On PGlite there is one
 * session (advisory locks exclude nothing) and one process per data directory, so leaders are
 * elected in-process.
 *
 * Leadership is an efficiency device, not the safety net: the workers stay correct when two run
 * at once for a moment (a projection's batch checks its checkpoint under the control row's lock;
 * the process manager's commands are idempotent).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { sql } from 'kysely';
import type { DatabaseHandle, DedicatedSession } from './database.js';

/** Waits `ms`, or less when `signal` aborts; never rejects. */
const sleep = (ms: number, signal: AbortSignal): Promise<void> => delay(ms, undefined, { signal }).catch(() => undefined);

/** 'keel' + 5: apart from the event store's stream locks (1801807212). */
export const LOCK_CLASS = 1801807217;

export interface Leadership {
  /** Resolves once this process leads `key` (undefined if `signal` aborted first). The returned signal aborts when leadership is lost. */
  acquire(key: string, signal: AbortSignal): Promise<AbortSignal | undefined>;
  /** Tries once; undefined when another process holds `key`. */
  tryAcquire(key: string): Promise<AbortSignal | undefined>;
  release(key: string): Promise<void>;
  close(): Promise<void>;
}

const local = new WeakMap<DatabaseHandle, Set<string>>();

export const createLeadership = (handle: DatabaseHandle, retryMs = 1_000): Leadership =>
  handle.kind === 'pglite' ? inProcess(handle, retryMs) : new AdvisoryLeadership(handle, retryMs);

const inProcess = (handle: DatabaseHandle, retryMs: number): Leadership => {
  let held = local.get(handle);
  if (!held) {
    held = new Set();
    local.set(handle, held);
  }
  const keys = held;
  const mine = new Map<string, AbortController>();
  const tryAcquire = (key: string): Promise<AbortSignal | undefined> => {
    if (keys.has(key)) return Promise.resolve(undefined);
    keys.add(key);
    const controller = new AbortController();
    mine.set(key, controller);
    return Promise.resolve(controller.signal);
  };
  return {
    tryAcquire,
    async acquire(key, signal) {
      while (!signal.aborted) {
        const won = await tryAcquire(key);
        if (won) return won;
        await sleep(retryMs, signal);
      }
      return undefined;
    },
    release(key) {
      mine.get(key)?.abort();
      if (mine.delete(key)) keys.delete(key);
      return Promise.resolve();
    },
    async close() {
      for (const key of [...mine.keys()]) await this.release(key);
    },
  };
};

class AdvisoryLeadership implements Leadership {
  private session: Promise<DedicatedSession> | undefined;
  private readonly held = new Map<string, AbortController>();
  private closed = false;

  constructor(
    private readonly handle: DatabaseHandle,
    private readonly retryMs: number,
  ) {}

  private open(): Promise<DedicatedSession> {
    this.session ??= (async () => {
      const session = await this.handle.dedicated();
      if (!session) throw new Error('advisory leadership needs a dedicated PostgreSQL connection');
      void session.lost.then(() => {
        // The session is gone and with it every lock it held.
        if (this.session !== undefined) this.session = undefined;
        for (const controller of this.held.values()) controller.abort();
        this.held.clear();
      });
      return session;
    })().catch((error: unknown) => {
      this.session = undefined;
      throw error;
    });
    return this.session;
  }

  async tryAcquire(key: string): Promise<AbortSignal | undefined> {
    if (this.closed) return undefined;
    const existing = this.held.get(key);
    if (existing && !existing.signal.aborted) return existing.signal;
    const session = await this.open();
    const [row] = await session.query('select pg_try_advisory_lock($1, hashtext($2)) as ok', [LOCK_CLASS, key]);
    if (row?.ok !== true) return undefined;
    const controller = new AbortController();
    this.held.set(key, controller);
    return controller.signal;
  }

  async acquire(key: string, signal: AbortSignal): Promise<AbortSignal | undefined> {
    while (!signal.aborted && !this.closed) {
      try {
        const won = await this.tryAcquire(key);
        if (won) return won;
      } catch {
        // No connection right now: keep standing by.
      }
      await sleep(this.retryMs, signal);
    }
    return undefined;
  }

  async release(key: string): Promise<void> {
    const controller = this.held.get(key);
    if (!controller) return;
    this.held.delete(key);
    controller.abort();
    const session = await this.session?.catch(() => undefined);
    await session?.query('select pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, key]).catch(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const controller of this.held.values()) controller.abort();
    this.held.clear();
    const session = await this.session?.catch(() => undefined);
    this.session = undefined;
    await session?.release();
  }
}

/** Whether some session holds `key` in this database (advisory locks are per database; PostgreSQL only, undefined on PGlite). */
export const isLeaderActive = async (handle: DatabaseHandle, key: string): Promise<boolean | undefined> => {
  if (handle.kind === 'pglite') return undefined;
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_locks
    where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())
      and classid = ${LOCK_CLASS}::bigint::oid
      and objid = (hashtext(${key})::bigint & 4294967295)::oid and objsubid = 2`.execute(handle.db);
  return (rows[0]?.n ?? 0) > 0;
};
