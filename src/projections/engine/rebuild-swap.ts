/**
 * The rebuild's last phase: catch up to the live checkpoint and swap, in one transaction that
 * locks the control row (the live runner's batches wait), applies the last stretch, verifies
 * (verify.ts), renames the schemas and records the new generation.
 */
import type { Transaction } from 'kysely';
import type { RecordedEvent } from '../../eventstore/port.js';
import { KeelError } from '../../platform/errors.js';
import { applyTail, collectRange } from './build-range.js';
import { lockControl, recordSwap, type ControlRow } from './control-store.js';
import { deleteGeneration } from './parked-store.js';
import type { RebuildRun, Swapped } from './rebuild-types.js';
import { dropSchema, liveSchemaOf, oldSchemaOf, renameSchema, schemaExists } from './schemas.js';
import { verifyBuild, type Verification } from './verify.js';

/** The events read for the swap but not applied yet: those in (built, upTo]. */
interface Tail {
  events: RecordedEvent[];
  upTo: bigint;
}

const extendTail = async (run: RebuildRun, tail: Tail, upTo: bigint): Promise<void> => {
  tail.events = [...tail.events, ...(await collectRange(run.options.store, run.scope, { after: tail.upTo, upTo }))];
  tail.upTo = upTo;
};

/** Throws KEEL_ERR_PROJECTION_VERIFY_FAILED unless the build passed (or mismatches are accepted). */
const verifyOrRefuse = async (trx: Transaction<unknown>, run: RebuildRun, live: ControlRow, countsCompared: boolean): Promise<Verification> => {
  const { name, scope, options } = run;
  const verification = await verifyBuild(
    trx,
    scope.projection,
    { schema: liveSchemaOf(name), generation: run.fromGeneration, version: live.version },
    { schema: scope.schema, generation: scope.generation },
    countsCompared,
  );
  if (verification.problems.length > 0 && options.acceptCountMismatch !== true) {
    throw new KeelError(
      'KEEL_ERR_PROJECTION_VERIFY_FAILED',
      `Rebuild of ${name} failed verification, so the live tables were NOT replaced: ${verification.problems.join('; ')}. ` +
        `The build is kept in schema ${scope.schema} for inspection. If the live tables are the wrong ones, rerun with --accept-count-mismatch.`,
      { projection: name, problems: [...verification.problems], schema: scope.schema },
    );
  }
  return verification;
};

/** Renames `rm_<name>` to `rm_<name>__old_g<N>` and the build to `rm_<name>`; returns the old schema. */
const swapSchemas = async (trx: Transaction<unknown>, run: RebuildRun): Promise<string> => {
  const live = liveSchemaOf(run.name);
  const oldSchema = oldSchemaOf(run.name, run.fromGeneration);
  await dropSchema(trx, oldSchema);
  if (await schemaExists(trx, live)) await renameSchema(trx, live, oldSchema);
  await renameSchema(trx, run.scope.schema, live);
  return oldSchema;
};

/** The swap transaction; undefined on PGlite when the live checkpoint moved since the tail was read. */
const swapTransaction = async (trx: Transaction<unknown>, run: RebuildRun, tail: Tail, attempt: number): Promise<Swapped | undefined> => {
  const { name, scope, options } = run;
  const live = await lockControl(trx, name);
  if (!live || live.generation !== run.fromGeneration) {
    throw new KeelError('KEEL_ERR_PROJECTION_REBUILD_CONFLICT', `Projection ${name} changed generation during the rebuild (another rebuild swapped first); nothing was swapped. Run the rebuild again if still needed.`, { projection: name });
  }
  if (live.position > tail.upTo) {
    if (options.handle.kind === 'pglite') {
      if (attempt < 50) return undefined; // moved meanwhile: read again outside the transaction
      throw new KeelError('KEEL_ERR_PROJECTION_REBUILD_CONFLICT', `Projection ${name} kept moving; could not catch up for the swap. Try again when writes are quieter.`, { projection: name });
    }
    await extendTail(run, tail, live.position);
  }
  const position = live.position > tail.upTo ? live.position : tail.upTo;
  const countsCompared = live.position === position;
  run.emit({ kind: 'swapping', position });
  await applyTail(trx, scope, tail.events, run.state);
  const verification = await verifyOrRefuse(trx, run, live, countsCompared);
  const oldSchema = await swapSchemas(trx, run);
  await recordSwap(trx, name, { generation: scope.generation, version: scope.projection.version, position });
  await deleteGeneration(trx, name, run.fromGeneration);
  return { position, oldSchema, tables: verification.tables, countsCompared };
};

/**
 * Catches up from `built` to the live checkpoint and swaps. The last stretch is read before the
 * swap transaction: PGlite has one connection, so a read inside the transaction would wait for the
 * transaction itself. On PostgreSQL, whatever the live runner commits meanwhile is read inside the
 * transaction (the runner waits on the row lock).
 */
export const catchUpAndSwap = async (run: RebuildRun, built: bigint): Promise<Swapped> => {
  const tail: Tail = { events: [], upTo: built };
  for (let attempt = 0; ; attempt++) {
    const livePosition = await run.targetNow();
    if (livePosition > tail.upTo) await extendTail(run, tail, livePosition);
    const swapped = await run.options.handle.db.transaction().execute((trx) => swapTransaction(trx, run, tail, attempt));
    if (swapped !== undefined) return swapped;
  }
};
