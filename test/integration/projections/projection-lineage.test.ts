/**
 * `keel projections trace` and `diff` on real read models: a story written through the real command
 * handlers, projected by the engine (startProjections) on PostgreSQL, EventStoreDB (protocol
 * double, events only) and PGlite. Trace lists exactly a key's events in position order; diff finds
 * no drift on freshly projected models, finds planted drift (a changed column, a deleted row, an
 * extra row) with its exact values, writes nothing to the live schema and always drops its scratch
 * schema. The CLI commands are run once end to end as real processes (exit codes and output).
 */
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore, RecordedEvent } from '../../../src/eventstore/port.js';
import { diffKey, LineageError, startProjections, traceKey, type Projections } from '../../../src/projections/engine/index.js';
import { liveSchemaOf, type Projection } from '../../../src/projections/projection.js';
import { catalogProjection } from '../../../src/projections/read-models/catalog/index.js';
import { dailySalesProjection } from '../../../src/projections/read-models/daily-sales/index.js';
import { flashSaleProjection } from '../../../src/projections/read-models/flash-sale/index.js';
import { readModels } from '../../../src/projections/read-models/index.js';
import { ordersProjection } from '../../../src/projections/read-models/orders/index.js';
import { rowsOf } from '../../support/projection-spec.js';
import { runKeel } from '../../support/projector-spawn.js';
import { at, commandsOn, openWriteSide, type WriteSide, type WriteSideTarget } from '../../support/write-side.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const DAY1 = '2026-11-23T10:00:00.000Z';
const DAY2 = '2026-11-24T09:00:00.000Z';
const EXPIRES = '2026-11-25T00:00:00.000Z';

/**
 * o1: MUG ×2 and HAT ×1, paid, confirmed, MUG committed on day 1 and HAT on day 2.
 * o2: MUG ×1, reserved, then cancelled and released. Returns the position of the last event.
 */
const writeStory = async (store: EventStore): Promise<bigint> => {
  const { commerce } = commandsOn(store);
  const day1 = at(DAY1);
  await commerce.listProduct({ productId: 'p-mug', sku: 'MUG', name: 'Mug', price: 1500, currency: 'EUR' }, day1);
  await commerce.listProduct({ productId: 'p-hat', sku: 'HAT', name: 'Hat', price: 800, currency: 'EUR' }, day1);
  await commerce.receiveStock({ sku: 'MUG', quantity: 20 }, day1);
  await commerce.receiveStock({ sku: 'HAT', quantity: 5 }, day1);
  const lines = [{ sku: 'MUG', quantity: 2, unitPrice: 1500 }, { sku: 'HAT', quantity: 1, unitPrice: 800 }];
  await commerce.placeOrder({ orderId: 'o1', customerId: 'c1', currency: 'EUR', lines }, day1);
  await commerce.reserveStock({ sku: 'MUG', orderId: 'o1', quantity: 2, expiresAt: EXPIRES }, day1);
  await commerce.reserveStock({ sku: 'HAT', orderId: 'o1', quantity: 1, expiresAt: EXPIRES }, day1);
  await commerce.placeOrder({ orderId: 'o2', customerId: 'c2', currency: 'EUR', lines: [{ sku: 'MUG', quantity: 1, unitPrice: 1500 }] }, day1);
  await commerce.reserveStock({ sku: 'MUG', orderId: 'o2', quantity: 1, expiresAt: EXPIRES }, day1);
  await commerce.requestPayment({ paymentId: 'pay-o1', orderId: 'o1', amount: 3800, currency: 'EUR' }, day1);
  await commerce.authorizePayment({ paymentId: 'pay-o1', authorizationCode: 'AUTH-1' }, day1);
  await commerce.confirmOrder({ orderId: 'o1', paymentId: 'pay-o1' }, day1);
  await commerce.commitStock({ sku: 'MUG', orderId: 'o1' }, day1);
  await commerce.cancelOrder({ orderId: 'o2', reason: 'changed my mind' }, day1);
  await commerce.releaseStock({ sku: 'MUG', orderId: 'o2', reason: 'order cancelled' }, day1);
  return (await commerce.commitStock({ sku: 'HAT', orderId: 'o1' }, at(DAY2))).position;
};

const allEvents = async (store: EventStore): Promise<RecordedEvent[]> => {
  const out: RecordedEvent[] = [];
  for await (const event of store.readAll()) out.push(event);
  return out;
};

const field = (event: RecordedEvent, name: string): unknown => (event.data as Record<string, unknown>)[name];

const scratchSchemas = async (db: Kysely<unknown>): Promise<string[]> => {
  const { rows } = await sql<{ nspname: string }>`select nspname from pg_namespace where nspname like ${'rm\\_%\\_\\_diff\\_%'}`.execute(db);
  return rows.map((r) => r.nspname);
};

/** The story, projected by the engine up to its last event; the engine keeps running. */
const projectStory = async (side: WriteSide): Promise<Projections> => {
  const last = await writeStory(side.store);
  const engine = await startProjections({
    handle: side.handle,
    store: side.store,
    projections: readModels,
    logger: quiet,
    tuning: { retryBaseMs: 5, standbyRetryMs: 200, idlePollMs: 100 },
  });
  await engine.waitFor(readModels.map((p) => p.name), last, { timeoutMs: 30_000 });
  return engine;
};

const targets: readonly WriteSideTarget[] = ['postgres', 'esdb', 'pglite'];

describe.each(targets)('trace and diff of read-model keys (%s)', { timeout: 60_000 }, (target) => {
  let side: WriteSide;
  let engine: Projections;
  let events: RecordedEvent[];

  beforeAll(async () => {
    side = await openWriteSide(`lineage_${target}`, target);
    engine = await projectStory(side);
    events = await allEvents(side.store);
  });
  afterAll(async () => {
    await engine?.stop();
    await side?.close();
  });

  const trace = (projection: Projection, key: string) => traceKey({ store: side.store, projection, key });
  const diff = (projection: Projection, key: string) => diffKey({ handle: side.handle, store: side.store, projection, key, batchSize: 3 });
  const positionsOf = (list: readonly { position: bigint }[]) => list.map((e) => e.position);

  it('trace lists exactly the events of one order (orders) and of one SKU (flash_sale), in position order', async () => {
    const o1 = await trace(ordersProjection, 'o1');
    const expectedO1 = events.filter((e) => ordersProjection.eventTypes.includes(e.type) && field(e, 'orderId') === 'o1');
    expect(positionsOf(o1.events)).toEqual(positionsOf(expectedO1));
    expect(o1.events.map((e) => e.type)).toEqual([
      'OrderPlaced', 'StockReserved', 'StockReserved', 'PaymentRequested', 'PaymentAuthorized', 'OrderConfirmed', 'StockCommitted', 'StockCommitted',
    ]);
    const positions = positionsOf(o1.events);
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
    const placed = expectedO1[0];
    expect(o1.events[0]).toMatchObject({
      streamId: 'order-o1',
      revision: 0n,
      time: DAY1,
      commandId: placed?.metadata.commandId,
      correlationId: placed?.metadata.correlationId,
    });
    expect(o1.events.every((e) => typeof e.commandId === 'string')).toBe(true);

    const hat = await trace(flashSaleProjection, 'HAT');
    const expectedHat = events.filter((e) => flashSaleProjection.eventTypes.includes(e.type) && field(e, 'sku') === 'HAT');
    expect(positionsOf(hat.events)).toEqual(positionsOf(expectedHat));
    expect(hat.events.map((e) => e.type)).toEqual(['SkuTracked', 'StockReceived', 'StockReserved', 'StockCommitted']);
  });

  it('trace of an aggregate key: the day totals of daily_sales are written by that day’s sales only', async () => {
    const day2 = await trace(dailySalesProjection, '2026-11-24');
    expect(day2.events.map((e) => [e.type, e.time])).toEqual([['StockCommitted', DAY2]]);
    expect((await trace(dailySalesProjection, '2026-11-23')).events.map((e) => e.type)).toEqual(['StockCommitted']);
    expect((await trace(ordersProjection, 'no-such-order')).events).toEqual([]);
  });

  it('diff finds no drift on the freshly projected read models, for every kind of key', async () => {
    const keys: [Projection, string, number][] = [
      [catalogProjection, 'p-mug', 1],
      [catalogProjection, 'MUG', 1],
      [ordersProjection, 'o1', 1],
      [ordersProjection, 'o2', 1],
      [flashSaleProjection, 'MUG', 1],
      [dailySalesProjection, '2026-11-23', 1],
      [dailySalesProjection, 'o1', 2],
      [dailySalesProjection, 'MUG', 1],
    ];
    for (const [projection, key, rowsInFirstTable] of keys) {
      const result = await diff(projection, key);
      expect(result, `${projection.name} ${key}`).toMatchObject({ drift: false, later: 0, parked: 0 });
      expect(result.events, `${projection.name} ${key}`).toBeGreaterThan(0);
      const table = result.tables.find((t) => t.liveRows > 0);
      expect(table?.liveRows, `${projection.name} ${key}`).toBe(rowsInFirstTable);
    }
    // A day's totals are rebuilt whole: its sales plus the order lines and SKU products they read.
    const day1 = await diff(dailySalesProjection, '2026-11-23');
    expect(day1.events).toBe(1);
    expect(day1.inputs).toBeGreaterThan(0);
    expect(day1.tables.find((t) => t.table === 'daily_sales')).toMatchObject({ liveRows: 1, rebuiltRows: 1 });
    expect(await scratchSchemas(side.handle.db)).toEqual([]);
  });

  it('diff finds planted drift with the exact columns and values, and writes nothing to the live schema', async () => {
    const db = side.handle.db;
    const live = liveSchemaOf('orders');
    await sql`update ${sql.id(live, 'orders')} set status = 'cancelled', cancel_reason = 'planted' where order_id = 'o1'`.execute(db);
    await sql`delete from ${sql.id(live, 'order_lines')} where order_id = 'o1' and line_no = 1`.execute(db);
    await sql`insert into ${sql.id(live, 'order_timeline')} (order_id, position, event_type, occurred_at, detail)
      values ('o1', 999999999999, 'Planted', ${DAY1}, '{}')`.execute(db);
    const before = await rowsOf(db, ordersProjection, live);

    const result = await diff(ordersProjection, 'o1');
    expect(result.drift).toBe(true);
    const [orders, lines, timeline] = result.tables;
    expect(orders).toMatchObject({ table: 'orders', primaryKey: ['order_id'], missingInLive: [], extraInLive: [] });
    expect(orders?.changed).toEqual([
      {
        key: { order_id: 'o1' },
        columns: [
          { column: 'status', live: 'cancelled', rebuilt: 'confirmed' },
          { column: 'cancel_reason', live: 'planted', rebuilt: null },
        ],
      },
    ]);
    expect(lines).toMatchObject({ table: 'order_lines', primaryKey: ['order_id', 'line_no'], liveRows: 1, rebuiltRows: 2, extraInLive: [], changed: [] });
    expect(lines?.missingInLive).toEqual([{ order_id: 'o1', line_no: '1', sku: 'HAT', quantity: '1', unit_price: '800', stock_status: 'committed' }]);
    expect(timeline).toMatchObject({ table: 'order_timeline', primaryKey: ['order_id', 'position'], missingInLive: [], changed: [] });
    expect(timeline?.extraInLive).toEqual([expect.objectContaining({ order_id: 'o1', position: '999999999999', event_type: 'Planted' })]);

    expect(await rowsOf(db, ordersProjection, live)).toEqual(before);
    expect(await scratchSchemas(db)).toEqual([]);
    expect((await diff(ordersProjection, 'o2')).drift).toBe(false);

    // An aggregate row, diffed by its day: rebuilt whole from the day's sales and what they read.
    await sql`update ${sql.id(liveSchemaOf('daily_sales'), 'daily_sales')} set units = units + 5 where day = '2026-11-24'`.execute(db);
    const day2 = await diff(dailySalesProjection, '2026-11-24');
    expect(day2.drift).toBe(true);
    expect(day2.tables.find((t) => t.table === 'daily_sales')?.changed).toEqual([
      { key: { product_id: 'p-hat', day: '2026-11-24', currency: 'EUR' }, columns: [{ column: 'units', live: '6', rebuilt: '1' }] },
    ]);
  });

  it('drops the scratch schema when applying fails; refuses a model that never ran or keys no rows', async () => {
    const failing: Projection = { ...ordersProjection, apply: () => Promise.reject(new Error('boom while applying')) };
    await expect(diff(failing, 'o1')).rejects.toThrow(/failed while applying the events at positions \d+\.\.\d+: boom while applying/);
    expect(await scratchSchemas(side.handle.db)).toEqual([]);

    const neverRan: Projection = { ...ordersProjection, name: 'orders_never_ran' };
    await expect(diff(neverRan, 'o1')).rejects.toThrow('orders_never_ran has never run');
    const { rowsOfKey: _unused, ...unkeyed } = ordersProjection;
    const refusal = await diff(unkeyed, 'o1').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(LineageError);
    expect(refusal).toMatchObject({ usage: true, message: expect.stringContaining('does not say which of its rows belong to a key') });

    const unknown = await diff(ordersProjection, 'no-such-order');
    expect(unknown).toMatchObject({ events: 0, drift: false });
    expect(await scratchSchemas(side.handle.db)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The CLI, end to end: the real `keel` entry (bin/keel.js) as a child process.

describe('keel projections trace / diff (CLI)', { timeout: 90_000 }, () => {
  let side: WriteSide;
  let engine: Projections;
  const keel = (...args: string[]) => runKeel(args, { DATABASE_URL: side.url ?? '' }, 45_000);

  beforeAll(async () => {
    side = await openWriteSide('lineage_cli', 'postgres');
    engine = await projectStory(side);
  });
  afterAll(async () => {
    await engine?.stop();
    await side?.close();
  });

  it('trace (table, --json), diff (no drift, drift, --json) and the errors, with their exit codes', async () => {
    // Drift planted in o2 only; every process runs at once (each is a fresh Node process).
    await sql`update ${sql.id('rm_orders', 'orders')} set total = 1 where order_id = 'o2'`.execute(side.handle.db);
    const [table, json, noKey, noProjection, clean, drift, driftJson] = await Promise.all([
      keel('projections', 'trace', 'orders', 'o1'),
      keel('projections', 'trace', 'flash_sale', 'HAT', '--json'),
      keel('projections', 'trace', 'orders', 'nope'),
      keel('projections', 'trace', 'nope', 'o1'),
      keel('projections', 'diff', 'orders', 'o1'),
      keel('projections', 'diff', 'orders', 'o2'),
      keel('projections', 'diff', 'orders', 'o2', '--json'),
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^POSITION\s+STREAM\s+REVISION\s+TYPE\s+TIME\s+COMMAND\s+CORRELATION\n\d+\s+order-o1\s+0\s+OrderPlaced\s+2026-11-23T10:00:00\.000Z\s+\S+\s+\S+\n/);
    expect(table.stdout.trim().split('\n').at(-1)).toBe('8 event(s) of orders wrote key o1, oldest first.');
    expect(json.code).toBe(0);
    const traced = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(traced.map((e) => e.type)).toEqual(['SkuTracked', 'StockReceived', 'StockReserved', 'StockCommitted']);
    expect(traced[0]).toMatchObject({ streamId: 'inventory-HAT', revision: '0', position: expect.stringMatching(/^\d+$/), commandId: expect.any(String) });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('no event of orders wrote key nope.');
    expect(noKey.stderr).toContain('Check the key: a key of orders is a value of orders.order_id');
    expect(noProjection.code).toBe(2);
    expect(noProjection.stderr).toContain('Unknown projection "nope"');
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^No drift: the live rows of o1 in orders \(orders 1, order_lines 2, order_timeline 8\) match a rebuild from its 8 events up to position \d+ \(the live checkpoint\)\.\n$/);
    expect(drift.code).toBe(1);
    expect(drift.stdout).toContain('DRIFT in orders, key o2: the live rows differ from a rebuild from its 4 events up to position');
    expect(drift.stdout).toContain('orders: 1 row changed (live 1, rebuilt 1)\n  ~ changed: order_id=o2\n      total: live "1", rebuilt "1500"\n');
    expect(drift.stdout).toContain('keel projections rebuild orders --accept-count-mismatch');
    expect(driftJson.code).toBe(1);
    const report = JSON.parse(driftJson.stdout) as { drift: boolean; tables: { table: string; changed: unknown[] }[] };
    expect(report.drift).toBe(true);
    expect(report.tables.find((t) => t.table === 'orders')?.changed).toEqual([{ key: { order_id: 'o2' }, columns: [{ column: 'total', live: '1', rebuilt: '1500' }] }]);
    expect(await scratchSchemas(side.handle.db)).toEqual([]);
  });
});
