/**
 * Applies one batch inside the caller's transaction, honouring parked keys. Normally the whole
 * batch goes to `apply` at once; in isolation mode (after the batch kept failing) each event is
 * applied under its own savepoint, and an event that still fails is parked: later events of its key
 * are stored as blocked behind it, other keys go on. The caller writes the checkpoint in the same
 * transaction, so parked and blocked events are accounted for exactly once too.
 */
import { sql, type Transaction } from 'kysely';
import type { RecordedEvent } from '../../eventstore/port.js';
import type { Projection, ProjectionChange } from '../projection.js';
import { describeError, insertParked, type ParkRow } from './parked-store.js';
import { isTransientError } from './transient.js';

export interface BatchScope {
  readonly projection: Projection;
  readonly schema: string;
  readonly generation: number;
  readonly rebuilding: boolean;
}

export interface AppliedBatch {
  readonly changes: readonly ProjectionChange[];
  /** Keys parked by this batch (key → parked row id): add them to the blocked keys after commit. */
  readonly newlyParked: ReadonlyMap<string, string>;
  readonly parked: number;
  readonly blocked: number;
}

export interface IsolationInfo {
  /** Attempts the whole batch already had (recorded on the parked row). */
  readonly attempts: number;
}

export const applyBatch = async (
  trx: Transaction<unknown>,
  scope: BatchScope,
  events: readonly RecordedEvent[],
  blockedKeys: ReadonlyMap<string, string>,
  isolation?: IsolationInfo,
): Promise<AppliedBatch> => {
  const { projection } = scope;
  const context = { schema: scope.schema, rebuilding: scope.rebuilding };
  if (isolation === undefined) {
    const ready: RecordedEvent[] = [];
    const waiting: ParkRow[] = [];
    for (const event of events) {
      const key = blockedKeys.size === 0 ? '' : projection.keyOf(event);
      const root = blockedKeys.size === 0 ? undefined : blockedKeys.get(key);
      if (root === undefined) ready.push(event);
      else waiting.push({ event, key, status: 'blocked', blockedBy: root, error: null, attempts: 0 });
    }
    const changes = ready.length > 0 ? await projection.apply(trx, ready, context) : [];
    await insertParked(trx, projection.name, scope.generation, waiting);
    return { changes, newlyParked: new Map(), parked: 0, blocked: waiting.length };
  }

  const changes: ProjectionChange[] = [];
  const newlyParked = new Map<string, string>();
  const waiting: ParkRow[] = [];
  let parked = 0;
  for (const event of events) {
    const key = projection.keyOf(event);
    const root = newlyParked.get(key) ?? blockedKeys.get(key);
    if (root !== undefined) {
      waiting.push({ event, key, status: 'blocked', blockedBy: root, error: null, attempts: 0 });
      continue;
    }
    await sql`savepoint keel_event`.execute(trx);
    try {
      changes.push(...(await projection.apply(trx, [event], context)));
      await sql`release savepoint keel_event`.execute(trx);
    } catch (error) {
      if (isTransientError(error)) throw error;
      await sql`rollback to savepoint keel_event`.execute(trx);
      const [id] = await insertParked(trx, projection.name, scope.generation, [
        { event, key, status: 'parked', blockedBy: null, error: describeError(error), attempts: isolation.attempts + 1 },
      ]);
      if (id === undefined) throw new Error('parking an event returned no id');
      newlyParked.set(key, id);
      parked += 1;
    }
  }
  await insertParked(trx, projection.name, scope.generation, waiting);
  return { changes, newlyParked, parked, blocked: waiting.length };
};
