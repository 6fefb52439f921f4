/**
 * The projector engine's public face. `startProjections` runs every projection (standing by where
 * another process leads); `watchProjections(...).waitFor` gives read-your-writes to processes that
 * run no projections (the API role); the rest backs `keel projections …`.
 */
import type { EventStore } from '../../eventstore/port.js';
import { migrateToLatest, type DatabaseHandle } from '../../platform/database.js';
import type { ChangeSink, Projection } from '../projection.js';
import { projectionMigrations } from './control-store.js';
import { createLeadership } from '../../platform/leadership.js';
import { createCommitNotifier, watchProjections, type WaitForOptions } from './position-watch.js';
import { ProjectionRunner, type BatchInfo } from './runner.js';
import { assertProjectionName } from './schemas.js';
import { projectionStatuses, type ProjectionStatus } from './status.js';
import { DEFAULT_TUNING, type EngineLogger, type EngineTuning } from './tuning.js';

export { projectionMigrations } from './control-store.js';
export { watchProjections, PROJECTION_CHANNEL, type ProjectionWatch, type WaitForOptions } from './position-watch.js';
export { projectionStatuses, lagOf, DEFAULT_HORIZON_STALL_SECONDS, type ProjectionStatus, type ProjectionState, type StatusOptions } from './status.js';
export { clearHorizonSql, holderText } from './horizon-text.js';
export { rebuildProjection, dropOldGenerations, type RebuildOptions, type RebuildProgress, type RebuildResult } from './rebuild.js';
export { retryParked, skipParked, type ParkedActionResult, type ParkedTarget } from './parked-actions.js';
export { listParked, type ParkedEvent } from './parked-store.js';
export { readControl, readControls, setState, type ControlRow } from './control-store.js';
export { DEFAULT_TUNING, type EngineLogger, type EngineTuning } from './tuning.js';
export type { BatchInfo } from './runner.js';
export {
  traceKey,
  diffKey,
  LineageError,
  type ChangedRow,
  type DiffOptions,
  type DiffResult,
  type LineageOptions,
  type RowValues,
  type ScanProgress,
  type TableDiff,
  type TracedEvent,
  type TraceResult,
} from './lineage.js';

/** Discards changes: used until a cache layer is configured. */
export const noopSink: ChangeSink = { publish: () => Promise.resolve() };

export interface StartProjectionsOptions {
  readonly handle: DatabaseHandle;
  readonly store: EventStore;
  readonly projections: readonly Projection[];
  readonly sink?: ChangeSink;
  readonly logger: EngineLogger;
  readonly tuning?: Partial<EngineTuning>;
  /** Called after each committed batch (metrics, tests). */
  readonly onBatch?: (info: BatchInfo) => void;
}

export interface Projections {
  /** Resolves when the named projection(s) have committed `position`; throws KEEL_ERR_PROJECTION_LAG_TIMEOUT. */
  waitFor(names: string | readonly string[], position: bigint, options?: WaitForOptions): Promise<void>;
  status(): Promise<ProjectionStatus[]>;
  /** Names of the projections this process currently runs (others stand by here). */
  leading(): string[];
  /** Each runner commits the batch in progress, then stops; leadership is released. */
  stop(): Promise<void>;
}

/** Migrates the control tables. Idempotent; `startProjections` and the CLI call it. */
export const migrateProjections = (handle: DatabaseHandle, log?: (line: string) => void) =>
  migrateToLatest(handle.db, projectionMigrations, 'projections', log);

export const startProjections = async (options: StartProjectionsOptions): Promise<Projections> => {
  const { handle, store, projections, logger } = options;
  const names = new Set<string>();
  for (const projection of projections) {
    assertProjectionName(projection.name);
    if (names.has(projection.name)) throw new Error(`Two projections are named ${projection.name}.`);
    names.add(projection.name);
  }
  await migrateProjections(handle, (line) => logger.info({}, line));
  const tuning: EngineTuning = { ...DEFAULT_TUNING, ...options.tuning };
  const leadership = createLeadership(handle, tuning.standbyRetryMs);
  const watch = await watchProjections(handle);
  const notifier = createCommitNotifier(handle);
  const runners = projections.map(
    (projection) =>
      new ProjectionRunner({
        handle,
        store,
        projection,
        sink: options.sink ?? noopSink,
        logger,
        leadership,
        watch,
        notify: (name, position) => notifier.notify(name, position),
        tuning,
        onBatch: options.onBatch,
      }),
  );
  for (const runner of runners) runner.start();
  let stopping: Promise<void> | undefined;
  return {
    waitFor: (target, position, waitOptions) => watch.waitFor(target, position, waitOptions),
    status: () => projectionStatuses(handle, store, projections),
    leading: () => projections.filter((_, i) => runners[i]?.leading === true).map((p) => p.name),
    stop: () => {
      stopping ??= (async () => {
        await Promise.all(runners.map((runner) => runner.stop()));
        await notifier.drain();
        await leadership.close();
        await watch.close();
      })();
      return stopping;
    },
  };
};
