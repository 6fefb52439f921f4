/**
 * One live batch as one transaction: lock the control row, check that nothing moved underneath
 * (version, pause, checkpoint; a new generation or parked version reloads the blocked keys), apply
 * (honouring parked keys), write the checkpoint. A failing batch is retried with backoff, then
 * applied event by event with failures parked; database outages are retried until they pass.
 */
import type { Transaction } from 'kysely';
import type { DatabaseHandle } from '../../platform/database.js';
import type { Projection } from '../projection.js';
import { applyBatch, type AppliedBatch } from './batch-apply.js';
import { lockControl, saveCheckpoint } from './control-store.js';
import type { FeedBatch } from './event-feed.js';
import { loadBlockedKeys } from './parked-store.js';
import { liveSchemaOf } from './schemas.js';
import { backoffMs, isTransientError, sleep } from './transient.js';
import type { EngineLogger, EngineTuning } from './tuning.js';

export interface LiveBatchDeps {
  readonly handle: DatabaseHandle;
  readonly projection: Projection;
  readonly logger: EngineLogger;
  readonly tuning: EngineTuning;
}

export type LiveOutcome =
  | { readonly kind: 'ok'; readonly applied: AppliedBatch; readonly generation: number; readonly parkedVersion: number; readonly blocked: Map<string, string> }
  | { readonly kind: 'paused' | 'version' | 'moved' | 'stopped' };

export interface Cursor {
  position: bigint;
  generation: number;
  parkedVersion: number;
  blocked: Map<string, string>;
}

/** One batch: retried with backoff, then applied event by event with failures parked. */
export const commitLiveBatch = async (deps: LiveBatchDeps, batch: FeedBatch, cursor: Cursor, signal: AbortSignal): Promise<LiveOutcome> => {
  const { projection, logger, tuning } = deps;
  let attempts = 0;
  let transient = 0;
  for (;;) {
    const isolate = attempts >= tuning.maxAttempts;
    try {
      return await deps.handle.db.transaction().execute((trx) => commitOnce(deps, trx, batch, cursor, isolate ? attempts : undefined));
    } catch (error) {
      const log = { projection: projection.name, err: error, events: batch.events.length, position: batch.position.toString() };
      if (isTransientError(error)) {
        transient += 1;
        logger.warn(log, `projection ${projection.name}: database unavailable; retrying the batch`);
        await sleep(backoffMs(Math.min(transient, 5), tuning.retryBaseMs), signal);
      } else if (isolate) {
        throw error;
      } else {
        attempts += 1;
        logger.warn({ ...log, attempt: attempts }, `projection ${projection.name}: batch failed; retrying`);
        await sleep(backoffMs(attempts, tuning.retryBaseMs), signal);
      }
      if (signal.aborted) return { kind: 'stopped' };
    }
  }
};

const commitOnce = async (
  deps: LiveBatchDeps,
  trx: Transaction<unknown>,
  batch: FeedBatch,
  cursor: Cursor,
  isolationAttempts: number | undefined,
): Promise<LiveOutcome> => {
  const { projection } = deps;
  const row = await lockControl(trx, projection.name);
  if (!row) throw new Error(`projection ${projection.name}: its control row is missing`);
  if (row.version !== projection.version) return { kind: 'version' };
  if (row.state === 'paused') return { kind: 'paused' };
  if (row.position !== cursor.position) return { kind: 'moved' };
  const blocked =
    row.generation === cursor.generation && row.parkedVersion === cursor.parkedVersion
      ? new Map(cursor.blocked)
      : await loadBlockedKeys(trx, projection.name, row.generation);
  const scope = { projection, schema: liveSchemaOf(projection.name), generation: row.generation, rebuilding: false };
  const applied = await applyBatch(trx, scope, batch.events, blocked, isolationAttempts === undefined ? undefined : { attempts: isolationAttempts });
  await saveCheckpoint(trx, projection.name, batch.position, batch.events.at(-1)?.createdAt);
  return { kind: 'ok', applied, generation: row.generation, parkedVersion: row.parkedVersion, blocked };
};
