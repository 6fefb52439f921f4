/**
 * Given / when / then for projections, on a real PostgreSQL database:
 *
 *   const spec = projectionSpec(catalogProjection, () => db);
 *   await spec.given(history(listed('p1', 'A'), tracked('A', 'p1'))).then(async (db) => {
 *     expect(await getProduct(db, 'p1')).toMatchObject({ status: 'listed' });
 *   });
 *
 * `given` recreates the projection's live schema (`rm_<name>`, so the query functions read it),
 * creates the tables and applies the events through `projection.apply`, each batch in its own
 * transaction as the engine would (one batch unless `batchSize` says otherwise). `then` gets the
 * database and every change the batches announced. `rowsOf` dumps every table of a schema, in a
 * stable order, to compare generations.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { expect } from 'vitest';
import type { RecordedEvent } from '../../src/eventstore/port.js';
import type { Projection, ProjectionChange } from '../../src/projections/projection.js';
import { liveSchemaOf } from '../../src/projections/projection.js';

export interface GivenOptions {
  /** Events per batch (default: all in one). */
  readonly batchSize?: number;
  /** Apply into this schema instead of the live one, as a rebuild does. */
  readonly schema?: string;
  readonly rebuilding?: boolean;
}

export const resetSchema = async (db: Kysely<unknown>, projection: Projection, schema: string): Promise<void> => {
  await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
  await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db);
  await projection.createTables(db, schema);
};

export const applyBatches = async (
  db: Kysely<unknown>,
  projection: Projection,
  events: readonly RecordedEvent[],
  options: GivenOptions = {},
): Promise<ProjectionChange[]> => {
  const schema = options.schema ?? liveSchemaOf(projection.name);
  const size = options.batchSize ?? Math.max(events.length, 1);
  const changes: ProjectionChange[] = [];
  for (let i = 0; i < events.length; i += size) {
    const batch = events.slice(i, i + size);
    const announced = await db
      .transaction()
      .execute((trx) => projection.apply(trx, batch, { schema, rebuilding: options.rebuilding ?? false }));
    changes.push(...announced);
  }
  return changes;
};

/** Every row of every table of the projection in `schema`, as JSON text, sorted. */
export const rowsOf = async (db: Kysely<unknown>, projection: Projection, schema: string): Promise<Record<string, string[]>> => {
  const out: Record<string, string[]> = {};
  for (const table of projection.tables) {
    const { rows } = await sql<{ row: string }>`select row_to_json(t)::text as row from ${sql.id(schema, table)} t`.execute(db);
    out[table] = rows.map((r) => r.row).sort();
  }
  return out;
};

export const projectionSpec = (projection: Projection, database: () => Kysely<unknown>) => ({
  given: (events: readonly RecordedEvent[], options: GivenOptions = {}) => ({
    /** Applies the events, then runs the assertions on the database and the announced changes. */
    then: async (assert: (db: Kysely<unknown>, changes: readonly ProjectionChange[]) => Promise<void> | void): Promise<void> => {
      const db = database();
      await resetSchema(db, projection, options.schema ?? liveSchemaOf(projection.name));
      const changes = await applyBatches(db, projection, events, options);
      await assert(db, changes);
    },
    /**
     * A rebuild gives the same rows: applying the events one at a time into a fresh schema (as a
     * rebuild generation, announcing nothing) leaves exactly the rows one big batch leaves live.
     */
    thenRebuildMatches: async (): Promise<void> => {
      const db = database();
      const live = liveSchemaOf(projection.name);
      const next = `${live}_rebuild_test`;
      await resetSchema(db, projection, live);
      await applyBatches(db, projection, events);
      await resetSchema(db, projection, next);
      const announced = await applyBatches(db, projection, events, { schema: next, rebuilding: true, batchSize: 1 });
      expect(announced).toEqual([]);
      expect(await rowsOf(db, projection, next)).toEqual(await rowsOf(db, projection, live));
    },
  }),
});
