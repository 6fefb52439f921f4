/**
 * `keel projections retry|skip`: re-apply a parked event (and then the events of its key that
 * waited behind it, in order), or give it up and release the ones behind it. Each parked event is
 * handled in one transaction that holds the control row's lock, so it serialises with the live
 * runner's batches; the runner reloads its blocked keys because the parked version changes.
 */
import { sql, type Transaction } from 'kysely';
import type { DatabaseHandle } from '../../platform/database.js';
import { KeelError } from '../../platform/errors.js';
import type { ChangeSink, Projection, ProjectionChange } from '../projection.js';
import { bumpParkedVersion, lockControl, readGeneration } from './control-store.js';
import {
  blockedBehind,
  deleteParked,
  describeError,
  listParked,
  markFailedAgain,
  markSkipped,
  readParked,
  reassignBlocked,
  type ParkedEvent,
} from './parked-store.js';
import { liveSchemaOf } from './schemas.js';
import { isTransientError } from './transient.js';

export interface ParkedActionResult {
  readonly id: string;
  readonly position: bigint;
  readonly key: string;
  readonly outcome: 'applied' | 'failed' | 'skipped';
  /** Events of the key that were waiting behind it and are now applied. */
  readonly released: number;
  /** Events of the key still waiting (behind a later event that failed). */
  readonly stillBlocked: number;
  readonly error?: string;
}

export interface ParkedTarget {
  readonly id?: string | undefined;
  readonly all?: boolean | undefined;
}

const notFound = (name: string, id: string, detail = ''): KeelError =>
  new KeelError('KEEL_ERR_PARKED_EVENT_NOT_FOUND', `No parked event ${id} in projection ${name}${detail}. List them with: keel projections parked ${name}`, {
    projection: name,
    id,
  });

/** Applies one event under a savepoint; returns its changes, or the error (the transaction stays usable). */
const tryApply = async (trx: Transaction<unknown>, projection: Projection, parked: ParkedEvent): Promise<ProjectionChange[] | Error> => {
  await sql`savepoint keel_parked`.execute(trx);
  try {
    const changes = await projection.apply(trx, [parked.event], { schema: liveSchemaOf(projection.name), rebuilding: false });
    await sql`release savepoint keel_parked`.execute(trx);
    return [...changes];
  } catch (error) {
    if (isTransientError(error)) throw error;
    await sql`rollback to savepoint keel_parked`.execute(trx);
    return error instanceof Error ? error : new Error(String(error));
  }
};

const handleOne = async (
  handle: DatabaseHandle,
  projection: Projection,
  id: string,
  action: 'retry' | 'skip',
  changes: ProjectionChange[],
): Promise<ParkedActionResult> =>
  handle.db.transaction().execute(async (trx) => {
    const { name } = projection;
    const row = await lockControl(trx, name);
    const root = await readParked(trx, name, id);
    if (!row || !root || root.generation !== row.generation || root.status === 'skipped') throw notFound(name, id);
    if (root.status === 'blocked') throw notFound(name, id, ` (event ${id} is waiting behind parked event ${root.blockedBy ?? '?'}: ${action} that one)`);
    if (row.version !== projection.version) {
      throw new KeelError('KEEL_ERR_PROJECTION_VERIFY_FAILED', `Projection ${name}: its tables are version ${row.version} but this code is version ${projection.version}. Rebuild it first: keel projections rebuild ${name}`);
    }
    const base = { id, position: root.event.position, key: root.key };
    if (action === 'retry') {
      const result = await tryApply(trx, projection, root);
      if (result instanceof Error) {
        await markFailedAgain(trx, id, describeError(result));
        await bumpParkedVersion(trx, name);
        const behind = await blockedBehind(trx, id);
        return { ...base, outcome: 'failed' as const, released: 0, stillBlocked: behind.length, error: describeError(result) };
      }
      changes.push(...result);
      await deleteParked(trx, [id]);
    } else {
      await markSkipped(trx, id);
    }
    const behind = await blockedBehind(trx, id);
    let released = 0;
    for (const [index, waiting] of behind.entries()) {
      const result = await tryApply(trx, projection, waiting);
      if (result instanceof Error) {
        await markFailedAgain(trx, waiting.id, describeError(result));
        await reassignBlocked(trx, behind.slice(index + 1).map((p) => p.id), waiting.id);
        break;
      }
      changes.push(...result);
      await deleteParked(trx, [waiting.id]);
      released += 1;
    }
    await bumpParkedVersion(trx, name);
    const outcome = action === 'retry' ? ('applied' as const) : ('skipped' as const);
    return { ...base, outcome, released, stillBlocked: behind.length - released - (released < behind.length ? 1 : 0) };
  });

const rootsOf = async (handle: DatabaseHandle, projection: Projection, target: ParkedTarget): Promise<string[]> => {
  if (target.id !== undefined) return [target.id];
  if (target.all !== true) throw new Error('say which parked event: --id <id> or --all');
  const generation = await readGeneration(handle.db, projection.name);
  if (generation === undefined) return [];
  return (await listParked(handle.db, projection.name, generation)).filter((p) => p.status === 'parked').map((p) => p.id);
};

const run = async (
  handle: DatabaseHandle,
  projection: Projection,
  target: ParkedTarget,
  action: 'retry' | 'skip',
  sink?: ChangeSink,
): Promise<ParkedActionResult[]> => {
  const results: ParkedActionResult[] = [];
  for (const id of await rootsOf(handle, projection, target)) {
    const changes: ProjectionChange[] = [];
    results.push(await handleOne(handle, projection, id, action, changes));
    if (sink && changes.length > 0) await sink.publish(changes).catch(() => {});
  }
  return results;
};

export const retryParked = (handle: DatabaseHandle, projection: Projection, target: ParkedTarget, sink?: ChangeSink): Promise<ParkedActionResult[]> =>
  run(handle, projection, target, 'retry', sink);

export const skipParked = (handle: DatabaseHandle, projection: Projection, target: ParkedTarget, sink?: ChangeSink): Promise<ParkedActionResult[]> =>
  run(handle, projection, target, 'skip', sink);
