/**
 * Read-your-writes: `waitFor(name, position)` resolves once projection `name` has committed a
 * checkpoint at or beyond `position`. Runners in this process report commits directly; runners in
 * other processes NOTIFY `keel_projections` after each commit; a slow poll of the control rows
 * covers lost notifications (and PGlite, where the API and the runners share one process anyway).
 * On a read replica (`listen: false`) only the replica's own control rows count: it polls them.
 */
import { sql } from 'kysely';
import type { DatabaseHandle } from '../../platform/database.js';
import { KeelError } from '../../platform/errors.js';
import { readPositions } from './control-store.js';

export const PROJECTION_CHANNEL = 'keel_projections';

export interface WaitForOptions {
  /** Default 5 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface ProjectionWatch {
  /** Resolves when every named projection's checkpoint is >= position; throws KEEL_ERR_PROJECTION_LAG_TIMEOUT naming the laggard. */
  waitFor(names: string | readonly string[], position: bigint, options?: WaitForOptions): Promise<void>;
  /** A commit seen in this process (runners call it). */
  observe(name: string, position: bigint): void;
  close(): Promise<void>;
}

interface Waiter {
  readonly name: string;
  readonly position: bigint;
  readonly resolve: () => void;
}

export interface WatchProjectionsOptions {
  /** How often the control rows are read while someone waits (default 250 ms). */
  readonly pollMs?: number;
  /**
   * Default true: LISTEN for commits. False on a read replica: a hot standby refuses LISTEN, and a
   * notice of the primary's commit says nothing about what the replica has replayed, so the watch
   * then only polls the replica's own checkpoint rows (it never writes either way).
   */
  readonly listen?: boolean;
}

export const watchProjections = async (handle: DatabaseHandle, options: WatchProjectionsOptions = {}): Promise<ProjectionWatch> => {
  const pollMs = options.pollMs ?? 250;
  const known = new Map<string, bigint>();
  const waiters = new Set<Waiter>();
  const observe = (name: string, position: bigint): void => {
    if (position <= (known.get(name) ?? -1n)) return;
    known.set(name, position);
    for (const waiter of waiters) {
      if (waiter.name === name && waiter.position <= position) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };
  const refresh = async (names: readonly string[]): Promise<void> => {
    if (names.length === 0) return;
    for (const [name, position] of await readPositions(handle.db, names)) observe(name, position);
  };
  // Concurrent waiters share one query: under load, many requests wait at once.
  let refreshing: Promise<void> | undefined;
  const refreshWaiting = (): void => {
    refreshing ??= refresh([...waiters].map((w) => w.name))
      .catch(() => {})
      .finally(() => (refreshing = undefined));
  };
  const unlisten =
    options.listen === false
      ? () => Promise.resolve()
      : await handle.listen(PROJECTION_CHANNEL, (payload) => {
          if (payload === undefined) return refreshWaiting();
          const [name, position] = payload.split(' ');
          if (name && position && /^-?\d+$/.test(position)) observe(name, BigInt(position));
        });
  const poll = setInterval(() => {
    if (waiters.size > 0) refreshWaiting();
  }, pollMs);
  poll.unref();

  const waitOne = async (name: string, position: bigint, options: WaitForOptions): Promise<void> => {
    if ((known.get(name) ?? -1n) >= position) return;
    const timeoutMs = options.timeoutMs ?? 5_000;
    await new Promise<void>((resolve, reject) => {
      const finish = (error?: unknown): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        waiters.delete(waiter);
        if (error === undefined) resolve();
        else reject(error instanceof Error ? error : new Error(String(error)));
      };
      const waiter: Waiter = { name, position, resolve: () => finish() };
      const onAbort = (): void => finish(options.signal?.reason ?? new Error('aborted'));
      const timer = setTimeout(() => {
        const at = known.get(name);
        finish(
          new KeelError(
            'KEEL_ERR_PROJECTION_LAG_TIMEOUT',
            `Projection "${name}" has not reached position ${position} after ${timeoutMs} ms (it is at ${at ?? 'unknown'}).`,
            { projection: name, position: position.toString(), at: at?.toString() ?? null, timeoutMs },
          ),
        );
      }, timeoutMs);
      waiters.add(waiter);
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      refreshWaiting();
    });
  };

  return {
    observe,
    waitFor: async (names, position, options = {}) => {
      const list = typeof names === 'string' ? [names] : names;
      // The first to time out names itself; the deadline is shared because they wait concurrently.
      await Promise.all(list.map((name) => waitOne(name, position, options)));
    },
    close: async () => {
      clearInterval(poll);
      await unlisten();
    },
  };
};

/** Tells other processes about a commit: coalesced, at most one NOTIFY in flight per projection. */
export const createCommitNotifier = (handle: DatabaseHandle) => {
  const pending = new Map<string, bigint>();
  let running: Promise<void> | undefined;
  const flush = async (): Promise<void> => {
    while (pending.size > 0) {
      const batch = [...pending];
      pending.clear();
      for (const [name, position] of batch) {
        await sql`select pg_notify(${PROJECTION_CHANNEL}, ${`${name} ${position}`})`.execute(handle.db).catch(() => {});
      }
    }
  };
  return {
    notify(name: string, position: bigint): void {
      pending.set(name, position);
      running ??= flush().finally(() => (running = undefined));
    },
    async drain(): Promise<void> {
      await running;
    },
  };
};
