/**
 * The control rows (`keel_projections`): generation, version, checkpoint and state per projection.
 * The one owner of that table: every SQL statement on it lives here (the migration aside).
 */
import { sql, type Kysely, type Migration, type Transaction } from 'kysely';
import type { Projection } from '../projection.js';
import * as projectionTables from './migrations/2026-11-30-0001-projections.js';
import { createSchema, liveSchemaOf } from './schemas.js';

export const projectionMigrations: Readonly<Record<string, Migration>> = {
  '2026-11-30-0001-projections': projectionTables,
};

export type StoredState = 'running' | 'paused';

export interface ControlRow {
  readonly name: string;
  readonly version: number;
  readonly generation: number;
  /** Checkpoint: every matching event at or below it is applied (or parked). -1: nothing yet. */
  readonly position: bigint;
  readonly state: StoredState;
  readonly lastEventAt: Date | null;
  /** Bumped by retry, skip and swap: runners reload their blocked keys when it changes. */
  readonly parkedVersion: number;
  readonly rebuildGeneration: number | null;
  readonly rebuildVersion: number | null;
  readonly rebuildStartedAt: Date | null;
  readonly updatedAt: Date;
}

interface RawRow {
  name: string;
  version: number;
  generation: number;
  position: string;
  state: string;
  last_event_at: Date | string | null;
  parked_version: number;
  rebuild_generation: number | null;
  rebuild_version: number | null;
  rebuild_started_at: Date | string | null;
  updated_at: Date | string;
}

const COLUMNS = sql`name, version, generation, position::text as position, state, last_event_at, parked_version,
  rebuild_generation, rebuild_version, rebuild_started_at, updated_at`;

const date = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

const toRow = (raw: RawRow): ControlRow => ({
  name: raw.name,
  version: Number(raw.version),
  generation: Number(raw.generation),
  position: BigInt(raw.position),
  state: raw.state === 'paused' ? 'paused' : 'running',
  lastEventAt: raw.last_event_at === null ? null : date(raw.last_event_at),
  parkedVersion: Number(raw.parked_version),
  rebuildGeneration: raw.rebuild_generation === null ? null : Number(raw.rebuild_generation),
  rebuildVersion: raw.rebuild_version === null ? null : Number(raw.rebuild_version),
  rebuildStartedAt: raw.rebuild_started_at === null ? null : date(raw.rebuild_started_at),
  updatedAt: date(raw.updated_at),
});

export const readControl = async (db: Kysely<unknown>, name: string): Promise<ControlRow | undefined> => {
  const { rows } = await sql<RawRow>`select ${COLUMNS} from keel_projections where name = ${name}`.execute(db);
  return rows[0] ? toRow(rows[0]) : undefined;
};

export const readControls = async (db: Kysely<unknown>): Promise<ControlRow[]> => {
  const { rows } = await sql<RawRow>`select ${COLUMNS} from keel_projections order by name`.execute(db);
  return rows.map(toRow);
};

/**
 * Locks the control row for the rest of `trx`. Every writer of a projection's tables (the live
 * runner's batches, retry/skip, the rebuild's swap) takes this lock first, so they serialise.
 */
/** Checkpoints of the named projections (those that have a control row). */
export const readPositions = async (db: Kysely<unknown>, names: readonly string[]): Promise<Map<string, bigint>> => {
  if (names.length === 0) return new Map();
  const { rows } = await sql<{ name: string; position: string }>`select name, position::text as position
    from keel_projections where name in (${sql.join([...new Set(names)])})`.execute(db);
  return new Map(rows.map((row) => [row.name, BigInt(row.position)]));
};

export const readGeneration = async (db: Kysely<unknown>, name: string): Promise<number | undefined> => {
  const { rows } = await sql<{ generation: number }>`select generation from keel_projections where name = ${name}`.execute(db);
  const generation = rows[0]?.generation;
  return generation === undefined ? undefined : Number(generation);
};

export const lockControl = async (trx: Transaction<unknown>, name: string): Promise<ControlRow | undefined> => {
  const { rows } = await sql<RawRow>`select ${COLUMNS} from keel_projections where name = ${name} for update`.execute(trx);
  return rows[0] ? toRow(rows[0]) : undefined;
};

export const saveCheckpoint = async (trx: Transaction<unknown>, name: string, position: bigint, lastEventAt: Date | undefined): Promise<void> => {
  await sql`update keel_projections set position = ${position.toString()}::bigint,
    last_event_at = coalesce(${lastEventAt?.toISOString() ?? null}::timestamptz, last_event_at), updated_at = now()
    where name = ${name}`.execute(trx);
};

/**
 * Creates the control row and the live schema with its tables (generation 1) if the projection
 * has never run. Idempotent and safe against a concurrent first start (the row insert decides).
 */
export const initializeProjection = async (db: Kysely<unknown>, projection: Projection): Promise<ControlRow> => {
  await db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ name: string }>`insert into keel_projections (name, version, generation)
      values (${projection.name}, ${projection.version}, 1) on conflict (name) do nothing returning name`.execute(trx);
    if (rows.length === 0) return;
    const schema = liveSchemaOf(projection.name);
    await createSchema(trx, schema);
    await projection.createTables(trx, schema);
  });
  const row = await readControl(db, projection.name);
  if (!row) throw new Error(`Projection ${projection.name}: the control row vanished after it was created.`);
  return row;
};

export const setState = async (db: Kysely<unknown>, name: string, state: StoredState): Promise<boolean> => {
  const result = await sql`update keel_projections set state = ${state}, updated_at = now() where name = ${name}`.execute(db);
  return (result.numAffectedRows ?? 0n) > 0n;
};

export const bumpParkedVersion = async (trx: Transaction<unknown>, name: string): Promise<void> => {
  await sql`update keel_projections set parked_version = parked_version + 1, updated_at = now() where name = ${name}`.execute(trx);
};

/** Marks generation `generation` (code version `version`) as being built. */
export const markRebuildStarted = async (db: Kysely<unknown>, name: string, generation: number, version: number): Promise<void> => {
  await sql`update keel_projections set rebuild_generation = ${generation}, rebuild_version = ${version},
      rebuild_started_at = now(), updated_at = now() where name = ${name}`.execute(db);
};

/** Clears the rebuild mark if it is still generation `generation`'s (a finished or failed rebuild). */
export const clearRebuildMark = async (db: Kysely<unknown>, name: string, generation: number): Promise<void> => {
  await sql`update keel_projections set rebuild_generation = null, rebuild_version = null, rebuild_started_at = null
        where name = ${name} and rebuild_generation = ${generation}`.execute(db);
};

/** The swap's record: the new generation, its version and checkpoint; clears the rebuild mark. */
export const recordSwap = async (
  trx: Transaction<unknown>,
  name: string,
  swap: { readonly generation: number; readonly version: number; readonly position: bigint },
): Promise<void> => {
  await sql`update keel_projections set generation = ${swap.generation}, version = ${swap.version}, parked_version = parked_version + 1,
          position = ${swap.position.toString()}::bigint,
          rebuild_generation = null, rebuild_version = null, rebuild_started_at = null, updated_at = now() where name = ${name}`.execute(trx);
};
