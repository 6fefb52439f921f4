/**
 * Blue/green rebuild. Generation N serves reads (schema `rm_<name>`) and its runner keeps it
 * current while generation N+1 is built from position zero into `rm_<name>__g<N+1>`, following the
 * live checkpoint. Then one transaction locks the control row (the live runner's batches wait),
 * applies the last stretch up to the live position, verifies (verify.ts), renames `rm_<name>` to
 * `rm_<name>__old_g<N>` and the build to `rm_<name>`, and records generation N+1 and the code's
 * version (rebuild-swap.ts). Schema renames are transactional: readers see the old tables or the
 * new ones, never none. The live runner notices the new generation at its next batch and carries on.
 */
import { inReplaySpan } from '../../platform/tracing.js';
import type { DatabaseHandle } from '../../platform/database.js';
import { KeelError } from '../../platform/errors.js';
import type { Projection } from '../projection.js';
import { buildRange } from './build-range.js';
import { clearRebuildMark, initializeProjection, markRebuildStarted, readControl, type ControlRow } from './control-store.js';
import { createLeadership } from '../../platform/leadership.js';
import { projectionLockKey, rebuildLockKey } from './lock-keys.js';
import { deleteGeneration } from './parked-store.js';
import { catchUpAndSwap } from './rebuild-swap.js';
import type { RebuildOptions, RebuildResult, RebuildRun, Swapped } from './rebuild-types.js';
import { buildSchemaOf, createSchema, dropSchema, oldSchemasOf } from './schemas.js';

export type { RebuildOptions, RebuildProgress, RebuildResult } from './rebuild-types.js';

/** Catch-up passes stop once a pass has fewer events than this; the rest is applied during the swap. */
const SWAP_GAP = 1_000;

/** The live control row (created if the projection never ran); refuses live tables newer than this code. */
const liveControl = async (handle: DatabaseHandle, projection: Projection): Promise<ControlRow> => {
  const row = (await readControl(handle.db, projection.name)) ?? (await initializeProjection(handle.db, projection));
  if (row.version > projection.version) {
    throw new KeelError(
      'KEEL_ERR_PROJECTION_REBUILD_CONFLICT',
      `The live tables of ${projection.name} are version ${row.version}, newer than this keel's code (version ${projection.version}); rebuild with the newer release instead.`,
      { projection: projection.name },
    );
  }
  return row;
};

/** Creates the empty build schema of generation N+1 (dropping a leftover of an interrupted rebuild) and marks it. */
const prepareGeneration = async (run: RebuildRun, holdsProjection: boolean): Promise<void> => {
  const { options, name, scope } = run;
  const { handle, projection } = options;
  await dropSchema(handle.db, scope.schema); // a leftover of an interrupted rebuild
  await deleteGeneration(handle.db, name, scope.generation);
  await handle.db.transaction().execute(async (trx) => {
    await createSchema(trx, scope.schema);
    await projection.createTables(trx, scope.schema);
  });
  await markRebuildStarted(handle.db, name, scope.generation, projection.version);
  const target = await run.targetNow();
  run.emit({ kind: 'started', name, fromGeneration: run.fromGeneration, toGeneration: scope.generation, schema: scope.schema, target, liveRunnerActive: !holdsProjection });
};

/**
 * Builds from position zero in passes, each up to the target of its start, reporting progress;
 * stops once a pass applied fewer than SWAP_GAP events. Returns the position built to.
 */
const buildFromZero = async (run: RebuildRun): Promise<bigint> => {
  const { options, state, startedAt } = run;
  const tuning = { maxBatch: options.maxBatch ?? 5_000, maxAttempts: options.maxAttempts ?? 3 };
  let built = -1n;
  let first: bigint | undefined;
  for (;;) {
    const target = await run.targetNow();
    if (built >= target) break;
    const before = state.events;
    const report = (position: bigint): void => {
      const elapsed = (Date.now() - startedAt) / 1000;
      const start = first ?? position;
      const fraction = position >= target ? 1 : target > start ? Number(position - start) / Number(target - start) : 0;
      const rate = elapsed > 0 ? state.events / elapsed : 0;
      const eta = fraction >= 1 ? 0 : fraction > 0 ? (elapsed * (1 - fraction)) / fraction : null;
      run.emit({ kind: 'progress', events: state.events, position, target, fraction, eventsPerSecond: rate, etaSeconds: eta, parked: state.parked });
    };
    await buildRange(options.handle.db, options.store, run.scope, { after: built, upTo: target }, state, {
      ...tuning,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onBatch: (firstOfBatch, last) => {
        first ??= firstOfBatch;
        report(last);
      },
    });
    report(target);
    built = target;
    if (state.events - before < SWAP_GAP) break;
  }
  return built;
};

/** Reports the swap, drops old generations if asked, and assembles the result. */
const finish = async (run: RebuildRun, swapped: Swapped): Promise<RebuildResult> => {
  const { options, name, scope, state } = run;
  run.emit({ kind: 'swapped', generation: scope.generation, position: swapped.position, oldSchema: swapped.oldSchema, tables: swapped.tables, countsCompared: swapped.countsCompared });
  const dropped = options.dropOld === true ? await dropOldGenerations(options.handle, name) : [];
  if (dropped.length > 0) run.emit({ kind: 'dropped', schemas: dropped });
  return {
    name,
    generation: scope.generation,
    version: scope.projection.version,
    position: swapped.position,
    events: state.events,
    parked: state.parked,
    seconds: (Date.now() - run.startedAt) / 1000,
    tables: swapped.tables,
    countsCompared: swapped.countsCompared,
    oldSchema: swapped.oldSchema,
    dropped,
  };
};

/**
 * A rebuild is a replay: with tracing on it runs in a trace of its own, marked `keel.replay`,
 * continuing and linking none of the live traces its events carry.
 */
export const rebuildProjection = (options: RebuildOptions): Promise<RebuildResult> =>
  inReplaySpan(`projection ${options.projection.name} rebuild`, { 'keel.projection': options.projection.name }, () => rebuild(options));

const rebuild = async (options: RebuildOptions): Promise<RebuildResult> => {
  const { handle, store, projection } = options;
  const { name } = projection;
  const leadership = createLeadership(handle);
  const lock = await leadership.tryAcquire(rebuildLockKey(name));
  if (!lock) throw new KeelError('KEEL_ERR_PROJECTION_REBUILD_RUNNING', `A rebuild of ${name} is already running in another process; wait for it to finish.`, { projection: name });
  const startedAt = Date.now();
  let toGeneration: number | undefined;
  try {
    const row = await liveControl(handle, projection);
    // No projector running it: hold it (one started meanwhile waits) and build to the head, as
    // the live tables are not moving. Otherwise follow the live checkpoint.
    const holdsProjection = (await leadership.tryAcquire(projectionLockKey(name))) !== undefined;
    const generation = row.generation + 1;
    toGeneration = generation;
    const run: RebuildRun = {
      options,
      name,
      emit: options.onProgress ?? (() => {}),
      startedAt,
      fromGeneration: row.generation,
      scope: { projection, schema: buildSchemaOf(name, generation), generation, rebuilding: true },
      state: { blocked: new Map(), events: 0, parked: 0 },
      targetNow: async () => (holdsProjection ? await store.headPosition() : ((await readControl(handle.db, name))?.position ?? -1n)),
    };
    await prepareGeneration(run, holdsProjection);
    const built = await buildFromZero(run);
    return await finish(run, await catchUpAndSwap(run, built));
  } finally {
    if (toGeneration !== undefined) await clearRebuildMark(handle.db, name, toGeneration).catch(() => {});
    await leadership.close();
  }
};

/** Drops every kept old generation of `name`; returns the schemas dropped. */
export const dropOldGenerations = async (handle: DatabaseHandle, name: string): Promise<string[]> => {
  const schemas = await oldSchemasOf(handle.db, name);
  for (const schema of schemas) await dropSchema(handle.db, schema);
  return schemas;
};
