/**
 * The harness's read model as a Keel projection, run by Keel's projector engine: the harness's
 * DDL and one SQL statement per event (`readModelSQL`), applied in the engine's batch transaction
 * beside the checkpoint. The statements name the table without a schema, so each batch sets
 * `search_path` to the projection's schema for its own transaction (`set local`). The harness
 * reads `public.bench_order_summary`, a view over the live schema's table.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Projection } from '../../src/projections/projection.js';
import { liveSchemaOf } from '../../src/projections/projection.js';
import type { PeerWorkload } from './harness-types.js';
import { ORDER_EVENT_TYPES, toOrderEvent } from './keel-aggregates.js';

export const PEER_PROJECTION = 'bench_order_summary';

// `public` stays on the path: the engine writes its checkpoint in the same transaction, unqualified.
const inSchema = (schema: string) => sql`set local search_path to ${sql.id(schema)}, public`;

export const peerProjection = (workload: PeerWorkload): Projection => ({
  name: PEER_PROJECTION,
  description: 'the peer harness read model (order summary)',
  version: 1,
  eventTypes: ORDER_EVENT_TYPES,
  tables: [workload.READ_MODEL_TABLE],
  keyOf: (event) => event.streamId,
  createTables: async (db, schema) => {
    // Called inside the engine's transaction or outside one: qualify the table instead of setting search_path.
    const table = workload.READ_MODEL_TABLE;
    // Engine schema names are [a-z0-9_] only, so quoting them is enough.
    const qualified = workload.readModelDDL.replace(` ${table} (`, ` "${schema}"."${table}" (`);
    if (qualified === workload.readModelDDL) throw new Error(`peer projection: cannot find "${table} (" in the harness DDL`);
    await sql.raw(qualified).execute(db);
  },
  apply: async (trx, events, { schema }) => {
    await inSchema(schema).execute(trx);
    // No parameters: node-postgres sends it as one simple query, all statements in one round trip.
    await sql.raw(events.map((event) => workload.readModelSQL(toOrderEvent(event))).join(';\n')).execute(trx);
    return [];
  },
});

/** Makes the live table readable as `public.<table>`, as the harness expects. */
export const exposeLiveTable = async (db: Kysely<unknown>, workload: PeerWorkload): Promise<void> => {
  const table = workload.READ_MODEL_TABLE;
  await sql`create or replace view public.${sql.id(table)} as select * from ${sql.id(liveSchemaOf(PEER_PROJECTION))}.${sql.id(table)}`.execute(db);
};
