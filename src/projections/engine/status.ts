/**
 * What `keel projections status` and the API report per projection: checkpoint, head, lag in
 * events and seconds, state and parked count.
 *
 * Lag in events is an exact count of the projection's matching events committed after its
 * checkpoint, counted through `readAll` up to `lagCountCap` (beyond it: `lagEventsCapped`, shown as
 * "10000+"). Positions are not dense, so a position difference would not be a count. Lag in
 * seconds is now minus the creation time of the oldest unprojected matching event (0 caught up).
 * Both include events committed at or above the PostgreSQL horizon (`beyondHorizon`): visible,
 * but not deliverable while an older transaction anywhere in the cluster runs; leaving them out
 * would show a projection stopped by such a transaction as caught up.
 *
 * `stalledBy` names that transaction (the event store's `horizonStall`) once committed events
 * have waited behind it for `horizonStallSeconds`: shorter waits are appends committing out of
 * order, which the horizon exists to wait for.
 */
import type { EventStore, HorizonStall } from '../../eventstore/port.js';
import type { DatabaseHandle } from '../../platform/database.js';
import type { Projection } from '../projection.js';
import { readControls, type ControlRow } from './control-store.js';
import { isLeaderActive } from '../../platform/leadership.js';
import { projectionLockKey, rebuildLockKey } from './lock-keys.js';
import { countParked } from './parked-store.js';

export type ProjectionState = 'running' | 'paused' | 'rebuilding' | 'needs-rebuild' | 'not-started';

export interface ProjectionStatus {
  readonly name: string;
  readonly description: string;
  /** Version of the code in this process. */
  readonly codeVersion: number;
  /** Version of the live tables (null: never started). */
  readonly version: number | null;
  readonly generation: number | null;
  readonly state: ProjectionState;
  /** Checkpoint (-1: nothing applied yet). */
  readonly position: bigint;
  readonly head: bigint;
  readonly lagEvents: number;
  readonly lagEventsCapped: boolean;
  readonly lagSeconds: number;
  /** Parked plus blocked events of the live generation. */
  readonly parked: number;
  /** Some process holds the runner lock (PostgreSQL only; null on PGlite). */
  readonly active: boolean | null;
  readonly updatedAt: Date | null;
  /**
   * The transaction holding the event store's horizon back while this projection has events to
   * apply (null: none, or the adapter has no horizon).
   */
  readonly stalledBy: HorizonStall | null;
}

/** `rebuildActive`: whether a rebuild holds its lock (undefined when unknown, on PGlite). */
export const stateOf = (row: ControlRow | undefined, projection: Projection, rebuildActive?: boolean): ProjectionState => {
  if (!row) return 'not-started';
  // A rebuild that was killed leaves its mark; its lock tells whether it still runs.
  if (row.rebuildGeneration !== null && rebuildActive !== false) return 'rebuilding';
  if (row.version !== projection.version) return 'needs-rebuild';
  return row.state;
};

export const DEFAULT_LAG_COUNT_CAP = 10_000;

/** Committed events waiting this long behind the horizon make it a stall worth naming. */
export const DEFAULT_HORIZON_STALL_SECONDS = 2;

/** Lag after `position`: committed events, the ones the horizon still holds back included. */
export const lagOf = async (
  store: EventStore,
  projection: Projection,
  position: bigint,
  cap = DEFAULT_LAG_COUNT_CAP,
  now = Date.now(),
): Promise<{ events: number; capped: boolean; seconds: number }> => {
  let events = 0;
  let oldest = Number.POSITIVE_INFINITY;
  const filter = { eventTypes: projection.eventTypes };
  for await (const event of store.readAll({ after: position, filter, maxCount: cap + 1, beyondHorizon: true })) {
    oldest = Math.min(oldest, event.createdAt.getTime());
    events += 1;
  }
  const capped = events > cap;
  return { events: capped ? cap : events, capped, seconds: events > 0 ? Math.max(0, (now - oldest) / 1000) : 0 };
};

export interface StatusOptions {
  /** Default DEFAULT_HORIZON_STALL_SECONDS. */
  readonly horizonStallSeconds?: number;
}

export const projectionStatuses = async (
  handle: DatabaseHandle,
  store: EventStore,
  projections: readonly Projection[],
  lagCountCap = DEFAULT_LAG_COUNT_CAP,
  options: StatusOptions = {},
): Promise<ProjectionStatus[]> => {
  const [rows, parked, head, horizon] = await Promise.all([
    readControls(handle.db),
    countParked(handle.db),
    store.headPosition(),
    store.horizonStall?.() ?? null,
  ]);
  const stall = horizon !== null && horizon.waitingSeconds >= (options.horizonStallSeconds ?? DEFAULT_HORIZON_STALL_SECONDS) ? horizon : null;
  const byName = new Map(rows.map((row) => [row.name, row]));
  return Promise.all(
    projections.map(async (projection) => {
      const row = byName.get(projection.name);
      const position = row?.position ?? -1n;
      const lag = await lagOf(store, projection, position, lagCountCap);
      return {
        name: projection.name,
        description: projection.description,
        codeVersion: projection.version,
        version: row?.version ?? null,
        generation: row?.generation ?? null,
        state: stateOf(row, projection, (await isLeaderActive(handle, rebuildLockKey(projection.name))) ?? undefined),
        position,
        head,
        lagEvents: lag.events,
        lagEventsCapped: lag.capped,
        lagSeconds: lag.seconds,
        parked: row === undefined ? 0 : (parked.get(projection.name)?.get(row.generation) ?? 0),
        active: (await isLeaderActive(handle, projectionLockKey(projection.name))) ?? null,
        updatedAt: row?.updatedAt ?? null,
        stalledBy: lag.events > 0 ? stall : null,
      };
    }),
  );
};
