/**
 * Blue/green rebuild. Generation N serves reads (schema `rm_<name>`) and its runner keeps it
 * current while generation N+1 is built from position zero into `rm_<name>__g<N+1>`, following the
 * live checkpoint. Then one transaction locks the control row (the live runner's batches wait),
 * applies the last stretch up to the live position, verifies (verify.ts), renames `rm_<name>` to
 * `rm_<name>__old_g<N>` and the build to `rm_<name>`, and records generation N+1 and the code's
 * version. Schema renames are transactional: readers see the old tables or the new ones, never
 * none. The live runner notices the new generation at its next batch and carries on.
 */
import type { EventStore } from '../../eventstore/port.js';
import type { DatabaseHandle } from '../../platform/database.js';
import { KeelError } from '../../platform/errors.js';
import type { Projection } from '../projection.js';
import { sql } from 'kysely';
import type { BatchScope } from './batch-apply.js';
import { applyTail, buildRange, collectRange, type BuildState } from './build-range.js';
import type { RecordedEvent } from '../../eventstore/port.js';
import { initializeProjection, lockControl, readControl } from './control-store.js';
import { createLeadership, projectionLockKey, rebuildLockKey } from './leadership.js';
import { deleteGeneration } from './parked-store.js';
import { buildSchemaOf, createSchema, dropSchema, liveSchemaOf, oldSchemaOf, oldSchemasOf, renameSchema, schemaExists } from './schemas.js';
import { verifyBuild, type TableCheck } from './verify.js';

export type RebuildProgress =
  | { readonly kind: 'started'; readonly name: string; readonly fromGeneration: number; readonly toGeneration: number; readonly schema: string; readonly target: bigint; readonly liveRunnerActive: boolean | null }
  | { readonly kind: 'progress'; readonly events: number; readonly position: bigint; readonly target: bigint; readonly fraction: number; readonly eventsPerSecond: number; readonly etaSeconds: number | null; readonly parked: number }
  | { readonly kind: 'swapping'; readonly position: bigint }
  | { readonly kind: 'swapped'; readonly generation: number; readonly position: bigint; readonly oldSchema: string; readonly tables: readonly TableCheck[]; readonly countsCompared: boolean }
  | { readonly kind: 'dropped'; readonly schemas: readonly string[] };

export interface RebuildOptions {
  readonly handle: DatabaseHandle;
  readonly store: EventStore;
  readonly projection: Projection;
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Drop the kept old generations after a successful swap. */
  readonly dropOld?: boolean;
  /** Swap even if row counts differ (see verify.ts). */
  readonly acceptCountMismatch?: boolean;
  readonly maxBatch?: number;
  readonly maxAttempts?: number;
  readonly signal?: AbortSignal;
}

export interface RebuildResult {
  readonly name: string;
  readonly generation: number;
  readonly version: number;
  readonly position: bigint;
  readonly events: number;
  readonly parked: number;
  readonly seconds: number;
  readonly tables: readonly TableCheck[];
  /** False when no projector ran the live tables, so the build went to the head and counts were only reported. */
  readonly countsCompared: boolean;
  readonly oldSchema: string;
  readonly dropped: readonly string[];
}

/** Catch-up passes stop once a pass has fewer events than this; the rest is applied during the swap. */
const SWAP_GAP = 1_000;

export const rebuildProjection = async (options: RebuildOptions): Promise<RebuildResult> => {
  const { handle, store, projection } = options;
  const { name } = projection;
  const emit = options.onProgress ?? (() => {});
  const leadership = createLeadership(handle);
  const lock = await leadership.tryAcquire(rebuildLockKey(name));
  if (!lock) throw new KeelError('KEEL_ERR_PROJECTION_REBUILD_RUNNING', `A rebuild of ${name} is already running in another process; wait for it to finish.`, { projection: name });
  const startedAt = Date.now();
  let toGeneration: number | undefined;
  try {
    const row = (await readControl(handle.db, name)) ?? (await initializeProjection(handle.db, projection));
    if (row.version > projection.version) {
      throw new KeelError(
        'KEEL_ERR_PROJECTION_REBUILD_CONFLICT',
        `The live tables of ${name} are version ${row.version}, newer than this keel's code (version ${projection.version}); rebuild with the newer release instead.`,
        { projection: name },
      );
    }
    // No projector running it: hold it (one started meanwhile waits) and build to the head, as
    // the live tables are not moving. Otherwise follow the live checkpoint.
    const holdsProjection = (await leadership.tryAcquire(projectionLockKey(name))) !== undefined;
    const targetNow = async (): Promise<bigint> =>
      holdsProjection ? await store.headPosition() : ((await readControl(handle.db, name))?.position ?? -1n);
    const fromGeneration = row.generation;
    const generation = fromGeneration + 1;
    toGeneration = generation;
    const schema = buildSchemaOf(name, generation);
    await dropSchema(handle.db, schema); // a leftover of an interrupted rebuild
    await deleteGeneration(handle.db, name, generation);
    await handle.db.transaction().execute(async (trx) => {
      await createSchema(trx, schema);
      await projection.createTables(trx, schema);
    });
    await sql`update keel_projections set rebuild_generation = ${generation}, rebuild_version = ${projection.version},
      rebuild_started_at = now(), updated_at = now() where name = ${name}`.execute(handle.db);
    emit({ kind: 'started', name, fromGeneration, toGeneration: generation, schema, target: await targetNow(), liveRunnerActive: !holdsProjection });

    const scope: BatchScope = { projection, schema, generation, rebuilding: true };
    const state: BuildState = { blocked: new Map(), events: 0, parked: 0 };
    const tuning = { maxBatch: options.maxBatch ?? 5_000, maxAttempts: options.maxAttempts ?? 3 };
    let built = -1n;
    let first: bigint | undefined;
    for (;;) {
      const target = await targetNow();
      if (built >= target) break;
      const before = state.events;
      const report = (position: bigint): void => {
        const elapsed = (Date.now() - startedAt) / 1000;
        const start = first ?? position;
        const fraction = position >= target ? 1 : target > start ? Number(position - start) / Number(target - start) : 0;
        const rate = elapsed > 0 ? state.events / elapsed : 0;
        const eta = fraction >= 1 ? 0 : fraction > 0 ? (elapsed * (1 - fraction)) / fraction : null;
        emit({ kind: 'progress', events: state.events, position, target, fraction, eventsPerSecond: rate, etaSeconds: eta, parked: state.parked });
      };
      await buildRange(handle.db, store, scope, { after: built, upTo: target }, state, {
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

    // The last stretch is read before the swap transaction: PGlite has one connection, so a read
    // inside the transaction would wait for the transaction itself. On PostgreSQL, whatever the live
    // runner commits meanwhile is read inside the transaction (the runner waits on the row lock).
    let tail: RecordedEvent[] = [];
    let tailUpTo = built;
    let swapped: { position: bigint; oldSchema: string; tables: readonly TableCheck[]; countsCompared: boolean } | undefined;
    for (let attempt = 0; swapped === undefined; attempt++) {
      const livePosition = await targetNow();
      if (livePosition > tailUpTo) {
        tail = [...tail, ...(await collectRange(store, scope, { after: tailUpTo, upTo: livePosition }))];
        tailUpTo = livePosition;
      }
      swapped = await handle.db.transaction().execute(async (trx) => {
        const live = await lockControl(trx, name);
        if (!live || live.generation !== fromGeneration) {
          throw new KeelError('KEEL_ERR_PROJECTION_REBUILD_CONFLICT', `Projection ${name} changed generation during the rebuild (another rebuild swapped first); nothing was swapped. Run the rebuild again if still needed.`, { projection: name });
        }
        if (live.position > tailUpTo) {
          if (handle.kind === 'pglite') {
            if (attempt < 50) return undefined; // moved meanwhile: read again outside the transaction
            throw new KeelError('KEEL_ERR_PROJECTION_REBUILD_CONFLICT', `Projection ${name} kept moving; could not catch up for the swap. Try again when writes are quieter.`, { projection: name });
          }
          tail = [...tail, ...(await collectRange(store, scope, { after: tailUpTo, upTo: live.position }))];
          tailUpTo = live.position;
        }
        const position = live.position > tailUpTo ? live.position : tailUpTo;
        const countsCompared = live.position === position;
        emit({ kind: 'swapping', position });
        await applyTail(trx, scope, tail, state);
        const verification = await verifyBuild(trx, projection, { schema: liveSchemaOf(name), generation: fromGeneration, version: live.version }, { schema, generation }, countsCompared);
        if (verification.problems.length > 0 && options.acceptCountMismatch !== true) {
          throw new KeelError(
            'KEEL_ERR_PROJECTION_VERIFY_FAILED',
            `Rebuild of ${name} failed verification, so the live tables were NOT replaced: ${verification.problems.join('; ')}. ` +
              `The build is kept in schema ${schema} for inspection. If the live tables are the wrong ones, rerun with --accept-count-mismatch.`,
            { projection: name, problems: [...verification.problems], schema },
          );
        }
        const oldSchema = oldSchemaOf(name, fromGeneration);
        await dropSchema(trx, oldSchema);
        if (await schemaExists(trx, liveSchemaOf(name))) await renameSchema(trx, liveSchemaOf(name), oldSchema);
        await renameSchema(trx, schema, liveSchemaOf(name));
        await sql`update keel_projections set generation = ${generation}, version = ${projection.version}, parked_version = parked_version + 1,
          position = ${position.toString()}::bigint,
          rebuild_generation = null, rebuild_version = null, rebuild_started_at = null, updated_at = now() where name = ${name}`.execute(trx);
        await deleteGeneration(trx, name, fromGeneration);
        return { position, oldSchema, tables: verification.tables, countsCompared };
      });
    }
    emit({ kind: 'swapped', generation, position: swapped.position, oldSchema: swapped.oldSchema, tables: swapped.tables, countsCompared: swapped.countsCompared });
    const dropped = options.dropOld === true ? await dropOldGenerations(handle, name) : [];
    if (dropped.length > 0) emit({ kind: 'dropped', schemas: dropped });
    return {
      name,
      generation,
      version: projection.version,
      position: swapped.position,
      events: state.events,
      parked: state.parked,
      seconds: (Date.now() - startedAt) / 1000,
      tables: swapped.tables,
      countsCompared: swapped.countsCompared,
      oldSchema: swapped.oldSchema,
      dropped,
    };
  } finally {
    if (toGeneration !== undefined) {
      await sql`update keel_projections set rebuild_generation = null, rebuild_version = null, rebuild_started_at = null
        where name = ${name} and rebuild_generation = ${toGeneration}`.execute(handle.db).catch(() => {});
    }
    await leadership.close();
  }
};

/** Drops every kept old generation of `name`; returns the schemas dropped. */
export const dropOldGenerations = async (handle: DatabaseHandle, name: string): Promise<string[]> => {
  const schemas = await oldSchemasOf(handle.db, name);
  for (const schema of schemas) await dropSchema(handle.db, schema);
  return schemas;
};
