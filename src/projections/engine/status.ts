/**
 * What `keel projections status` and the API report per projection: checkpoint, head, lag in
 * events and seconds, state and parked count.
 *
 * Lag in events is an exact count of the projection's matching events between its checkpoint and
 * the head, counted through `readAll` up to `lagCountCap` (beyond it: `lagEventsCapped`, shown as
 * "10000+"). Positions are not dense, so a position difference would not be a count. Lag in
 * seconds is now minus the creation time of the oldest unprojected matching event (0 caught up).
 */
import type { EventStore } from '../../eventstore/port.js';
import type { DatabaseHandle } from '../../platform/database.js';
import type { Projection } from '../projection.js';
import { readControls, type ControlRow } from './control-store.js';
import { isLeaderActive, projectionLockKey, rebuildLockKey } from './leadership.js';
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

export const lagOf = async (
  store: EventStore,
  projection: Projection,
  position: bigint,
  head: bigint,
  cap = DEFAULT_LAG_COUNT_CAP,
  now = Date.now(),
): Promise<{ events: number; capped: boolean; seconds: number }> => {
  let events = 0;
  let oldest: Date | undefined;
  if (position < head) {
    for await (const event of store.readAll({ after: position, filter: { eventTypes: projection.eventTypes }, maxCount: cap + 1 })) {
      if (event.position > head) break;
      oldest ??= event.createdAt;
      events += 1;
    }
  }
  const capped = events > cap;
  return { events: capped ? cap : events, capped, seconds: oldest ? Math.max(0, (now - oldest.getTime()) / 1000) : 0 };
};

export const projectionStatuses = async (
  handle: DatabaseHandle,
  store: EventStore,
  projections: readonly Projection[],
  lagCountCap = DEFAULT_LAG_COUNT_CAP,
): Promise<ProjectionStatus[]> => {
  const [rows, parked, head] = await Promise.all([readControls(handle.db), countParked(handle.db), store.headPosition()]);
  const byName = new Map(rows.map((row) => [row.name, row]));
  return Promise.all(
    projections.map(async (projection) => {
      const row = byName.get(projection.name);
      const position = row?.position ?? -1n;
      const lag = await lagOf(store, projection, position, head, lagCountCap);
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
        parked: parked.get(projection.name) ?? 0,
        active: (await isLeaderActive(handle, projectionLockKey(projection.name))) ?? null,
        updatedAt: row?.updatedAt ?? null,
      };
    }),
  );
};
