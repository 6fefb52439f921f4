/**
 * Keel in the peer harness (/work/shared/peer-bench): the same workloads as Emmett, run through
 * Keel's own PostgreSQL event store (group commit on), command handler (per-stream batching,
 * default retry policy) and projector engine (the harness's read model as a Keel projection,
 * ./peer-projection.ts, with the engine's default tuning).
 *
 *   bench/compare.sh /work/main/bench/peer/keel-adapter.ts 1      # from the harness directory
 *
 * PG_URL picks the database (default postgresql://postgres:postgres@127.0.0.1:5432/emmettbench);
 * every workload drops and recreates its `public` schema.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createCommandHandler } from '../../src/commands/handler/command-handler.js';
import type { CommandHandler, HandlerStats } from '../../src/commands/handler/command-handler.js';
import { defaultBackoff } from '../../src/commands/handler/retry.js';
import type { CommandContext } from '../../src/commands/handler/types.js';
import { openEventStore } from '../../src/eventstore/open.js';
import type { EventStore } from '../../src/eventstore/port.js';
import { DEFAULT_BATCHER_LIMITS } from '../../src/eventstore/postgres/index.js';
import { openDatabase } from '../../src/platform/database.js';
import type { DatabaseHandle } from '../../src/platform/database.js';
import type { BenchAdapter, HotStreamAdapter, InventoryState, PeerWorkload } from './harness-types.js';
import { benchInventoryAggregate, benchOrderAggregate, ORDER_EVENT_TYPES, toInventoryEvent } from './keel-aggregates.js';
import { DEFAULT_TUNING, migrateProjections, startProjections } from '../../src/projections/engine/index.js';
import { initializeProjection } from '../../src/projections/engine/control-store.js';
import { liveSchemaOf } from '../../src/projections/projection.js';
import { exposeLiveTable, PEER_PROJECTION, peerProjection } from './peer-projection.js';

const CONNECTION_STRING = process.env.PG_URL ?? 'postgresql://postgres:postgres@127.0.0.1:5432/emmettbench';
const POOL_SIZE = 16;
const quiet = { info: () => {}, warn: () => {}, error: (obj: object, msg?: string) => console.error(msg, obj) };

const keelVersion: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

interface Opened {
  readonly handle: DatabaseHandle;
  store?: EventStore;
  handler?: CommandHandler;
}

export const createAdapter = (workload: PeerWorkload): BenchAdapter & HotStreamAdapter => {
  const orders = benchOrderAggregate(workload);
  const inventory = benchInventoryAggregate(workload);
  let admin: pg.Pool | undefined;
  let opened: Opened | undefined;
  let counted: HandlerStats = { commands: 0, batches: 0, appends: 0, conflicts: 0 };

  const adminPool = (): pg.Pool => (admin ??= new pg.Pool({ connectionString: CONNECTION_STRING, max: 2 }));
  const query = async <T>(text: string): Promise<T[]> => (await adminPool().query(text)).rows;
  const ready = (): Required<Opened> => {
    if (!opened?.store || !opened.handler) throw new Error('keel adapter: open() and setupSchema() first');
    return { handle: opened.handle, store: opened.store, handler: opened.handler };
  };
  const context = (): CommandContext => ({ commandId: randomUUID(), actor: 'peer-bench', now: new Date().toISOString() });
  const shutKeel = async (): Promise<void> => {
    const current = opened;
    opened = undefined;
    await current?.store?.close();
    await current?.handle.close();
  };
  /**
   * "Caught up with everything committed": the last stored order event, read from Keel's table.
   * store.headPosition() is not enough: it is the horizon, which any open transaction anywhere in
   * the cluster holds back, so a caught-up at the head could still leave committed events unread.
   */
  const lastOrderPosition = async (): Promise<bigint> => {
    const types = ORDER_EVENT_TYPES.map((t) => `'${t}'`).join(',');
    const [row] = await query<{ p: string }>(`SELECT coalesce(max(position), -1)::text AS p FROM keel_events WHERE type IN (${types})`);
    return BigInt(row?.p ?? '-1');
  };
  /** Starts the engine on the harness's read model (from its checkpoint: zero after a reset). */
  const project = async () => {
    const { handle, store } = ready();
    const projection = peerProjection(workload);
    await initializeProjection(handle.db, projection);
    await exposeLiveTable(handle.db, workload);
    let eventsHandled = 0;
    const projections = await startProjections({
      handle,
      store,
      projections: [projection],
      logger: quiet,
      onBatch: (info) => {
        eventsHandled += info.events;
      },
    });
    return { projections, handled: () => eventsHandled };
  };

  return {
    name: 'keel',
    version: keelVersion,
    describe: () => ({
      connectionString: CONNECTION_STRING.replace(/:[^:@/]*@/, ':***@'),
      poolSize: POOL_SIZE,
      appendBatching: DEFAULT_BATCHER_LIMITS,
      commandHandler: { backoff: defaultBackoff, maxBatch: 'default (500)', cache: 'default (10,000 streams)' },
      projection: { engine: 'keel projector engine', tuning: DEFAULT_TUNING, transaction: 'one per batch, checkpoint in it, statements as one simple query' },
    }),
    async resetDatabase() {
      await shutKeel();
      await query(`DROP SCHEMA IF EXISTS ${liveSchemaOf(PEER_PROJECTION)} CASCADE`);
      await query('DROP SCHEMA IF EXISTS public CASCADE');
      await query('CREATE SCHEMA public');
    },
    async open() {
      adminPool();
      opened ??= { handle: await openDatabase({ databaseUrl: CONNECTION_STRING, dataDir: join(tmpdir(), 'keel-peer-unused'), poolSize: POOL_SIZE }) };
    },
    async setupSchema() {
      if (!opened) throw new Error('keel adapter: open() first');
      opened.store = await openEventStore(opened.handle);
      // The projector's control tables are installed with the schema, as Emmett's are (not timed).
      await migrateProjections(opened.handle);
      opened.handler = createCommandHandler(opened.store);
      counted = opened.handler.stats();
    },
    async warmPool(n) {
      const { store } = ready();
      const probe = async (): Promise<void> => {
        for await (const _ of store.readStream('warmup-nonexistent')) break;
      };
      await Promise.all([...Array.from({ length: n }, probe), query('SELECT 1'), query('SELECT 1')]);
    },
    async append(streamId, events) {
      const data = events.map((e) => ({ id: randomUUID(), type: e.type, data: e.data, metadata: {} }));
      await ready().store.append(streamId, data, { expectedRevision: 'any' });
    },
    async handleOrderCommand(orderId, command) {
      const result = await ready().handler.handle(orders, `order-${orderId}`, command, context());
      return result.events.length;
    },
    async handleInventoryCommand(sku, command) {
      // A refusal is the decider's own SoldOutError, rejected as it was thrown.
      await ready().handler.handle(inventory, `inventory-${sku}`, command, context());
    },
    async loadInventory(sku): Promise<InventoryState> {
      let state = workload.inventoryInitialState();
      for await (const stored of ready().store.readStream(`inventory-${sku}`)) {
        state = workload.inventoryEvolve(state, toInventoryEvent(stored));
      }
      return state;
    },
    hotStreamCounters() {
      const now = opened?.handler?.stats() ?? counted;
      const delta = {
        commands: now.commands - counted.commands,
        batches: now.batches - counted.batches,
        appends: now.appends - counted.appends,
        conflicts: now.conflicts - counted.conflicts,
      };
      counted = now;
      return delta;
    },
    projectionVariants: () => ['default'],
    async resetProjection() {
      await query(`DROP VIEW IF EXISTS public.${workload.READ_MODEL_TABLE}`);
      await query(`DROP SCHEMA IF EXISTS ${liveSchemaOf(PEER_PROJECTION)} CASCADE`);
      await query(`DELETE FROM keel_projections WHERE name = '${PEER_PROJECTION}'`).catch(() => []);
      await query(`DELETE FROM keel_projection_parked WHERE name = '${PEER_PROJECTION}'`).catch(() => []);
    },
    async projectFromZero() {
      const run = await project();
      try {
        await run.projections.waitFor(PEER_PROJECTION, await lastOrderPosition(), { timeoutMs: 600_000 });
      } finally {
        await run.projections.stop();
      }
      return { eventsHandled: run.handled() };
    },
    async startLiveProjection() {
      const run = await project();
      return { stop: () => run.projections.stop() };
    },
    query,
    async diagnostics() {
      // keel_events is Keel's internal table (the port has no count); tolerate a schema change.
      const stored = await query<{ n: string }>('SELECT count(*)::text AS n FROM keel_events').catch(() => []);
      return { eventsStored: stored[0] ? Number(stored[0].n) : 'unknown', handler: opened?.handler?.stats() };
    },
    async close() {
      await shutKeel();
      await admin?.end();
      admin = undefined;
    },
  };
};

export default createAdapter;
