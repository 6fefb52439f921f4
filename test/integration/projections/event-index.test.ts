/**
 * The event index (`event_index`, what `keel explain` reads) run by the real projector engine over
 * a story the real write side tells: commerce commands and the order-fulfilment process manager
 * place, reserve, pay, confirm, commit, cancel and release, with several orders sharing the same
 * inventory streams. The index must answer exactly what a full scan of `$all` answers: an order's
 * events across its order, inventory and payment streams (and none of the other orders' events in
 * those inventory streams), a correlation's whole causal chain, one event by id. Re-applying a batch
 * changes nothing; before the projection ever ran, lookups answer [] and there is no checkpoint.
 * On PostgreSQL, on the EventStoreDB adapter (protocol double, a fake; read model in PostgreSQL)
 * and on PGlite.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTypes } from '../../../src/events/index.js';
import type { RecordedEvent } from '../../../src/eventstore/port.js';
import { startProjections, type Projections } from '../../../src/projections/engine/index.js';
import { liveSchemaOf } from '../../../src/projections/projection.js';
import {
  createEventIndexReader,
  eventIndexProjection,
  readModels,
  refsOf,
  type IndexedEventRef,
} from '../../../src/projections/read-models/index.js';
import { collect } from '../../support/event-store-fixtures.js';
import { createFulfilmentHarness, type FulfilmentHarness } from '../../support/fulfilment-harness.js';
import { applyBatches, resetSchema, rowsOf } from '../../support/projection-spec.js';
import { countEvents, openWriteSide, type WriteSide, type WriteSideTarget } from '../../support/write-side.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const NAME = eventIndexProjection.name;

/** A string field of the raw event data (what the test's own scan filters on). */
const field = (event: RecordedEvent, name: string): unknown =>
  typeof event.data === 'object' && event.data !== null ? Reflect.get(event.data, name) : undefined;
const toRef = (event: RecordedEvent): IndexedEventRef => ({ position: event.position, streamId: event.streamId, revision: event.revision });
const streamsOf = (refs: readonly IndexedEventRef[]): string[] => [...new Set(refs.map((r) => r.streamId))].sort();

/**
 * o1 and o4 are confirmed (their stock committed); o2 asks for more B than there is (cancelled, its
 * C released); o3's payment is declined (cancelled, its A released). Inventory A and C hold events
 * of several orders.
 */
const tellStory = async (side: WriteSide, h: FulfilmentHarness): Promise<void> => {
  await h.stockUp(['A', 'B', 'C']);
  const runner = await h.start();
  try {
    await h.place('o1', [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }]);
    await h.until('o1 confirmed', h.statusOf('o1', 'confirmed'));
    await h.place('o2', [{ sku: 'C', quantity: 3 }, { sku: 'B', quantity: 50 }]);
    await h.until('o2 cancelled', h.statusOf('o2', 'cancelled'));
    h.knobs.decline = true;
    await h.place('o3', [{ sku: 'A', quantity: 1 }]);
    await h.until('o3 cancelled', h.statusOf('o3', 'cancelled'));
    h.knobs.decline = false;
    await h.place('o4', [{ sku: 'A', quantity: 1 }, { sku: 'C', quantity: 1 }]);
    await h.until('o4 confirmed', h.statusOf('o4', 'confirmed'));
    await h.until('the story to settle', async () => {
      const [a, b, c] = [await h.stock('A'), await h.stock('B'), await h.stock('C')];
      return a.sold === 3 && a.reserved === 0 && b.sold === 1 && c.sold === 1 && c.reserved === 0;
    });
  } finally {
    await runner.stop();
  }
  // Every committed event readable by readAll (PostgreSQL: past the subscription horizon).
  await h.until('readAll to see every event', async () => (await collect(side.store.readAll())).length === (await countEvents(side)));
};

describe.each<WriteSideTarget>(['postgres', 'esdb', 'pglite'])('the event_index projection on %s', (target) => {
  let side: WriteSide;
  let engine: Projections | undefined;
  let events: RecordedEvent[];
  let neverRan: { readonly lookup: IndexedEventRef[]; readonly checkpoint: bigint | undefined };
  const reader = () => createEventIndexReader(side.handle.db);
  const lookup = (...refs: string[]) => reader().lookup(refs);
  const scan = (keep: (event: RecordedEvent) => boolean): IndexedEventRef[] => events.filter(keep).map(toRef);
  const o1Placed = (): RecordedEvent => {
    const placed = events.find((e) => e.type === 'OrderPlaced' && field(e, 'orderId') === 'o1');
    if (placed === undefined) throw new Error('o1 was not placed');
    return placed;
  };

  beforeAll(async () => {
    side = await openWriteSide(`event_index_${target}`, target);
    await tellStory(side, createFulfilmentHarness(side));
    neverRan = { lookup: await lookup('order:o1'), checkpoint: await reader().checkpoint() };
    events = (await collect(side.store.readAll())).filter((e) => eventTypes.some((type) => type === e.type));
    const last = events.at(-1)?.position ?? -1n;
    // Small batches: the story is applied in many transactions, as a long catch-up would be.
    engine = await startProjections({ handle: side.handle, store: side.store, projections: [eventIndexProjection], logger: quiet, tuning: { maxBatch: 7, retryBaseMs: 5 } });
    await engine.waitFor(NAME, last, { timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await engine?.stop();
    await side?.close();
  });

  it('before the projection ever ran: lookups answer [] and there is no checkpoint', () => {
    expect(neverRan).toEqual({ lookup: [], checkpoint: undefined });
  });

  it("finds exactly an order's events in its order, inventory and payment streams, by position", async () => {
    const expected = scan((e) => field(e, 'orderId') === 'o1');
    const found = await lookup('order:o1');
    expect(found).toEqual(expected);
    const payment = events.find((e) => e.type === 'PaymentRequested' && field(e, 'orderId') === 'o1');
    expect(payment?.streamId).toMatch(/^payment-/);
    expect(streamsOf(found)).toEqual(['inventory-A', 'inventory-B', 'order-o1', payment?.streamId].sort());
    expect(events.filter((e) => field(e, 'orderId') === 'o1').map((e) => e.type).sort()).toEqual(
      ['OrderPlaced', 'StockReserved', 'StockReserved', 'PaymentRequested', 'PaymentAuthorized', 'OrderConfirmed', 'StockCommitted', 'StockCommitted'].sort(),
    );
    // Inventory A also holds the other orders' reservations (and its receipt): none of them is returned.
    const othersInA = events.filter((e) => e.streamId === 'inventory-A' && field(e, 'orderId') !== 'o1');
    expect(othersInA.length).toBeGreaterThan(3);
    expect(found.some((r) => othersInA.some((e) => e.position === r.position))).toBe(false);
    // A payment and a product are found by their ids too.
    const paymentId = String(field(payment ?? o1Placed(), 'paymentId'));
    expect(await lookup(`payment:${paymentId}`)).toEqual(scan((e) => field(e, 'paymentId') === paymentId));
    expect(await lookup('product:p-A')).toEqual(scan((e) => field(e, 'productId') === 'p-A'));
  });

  it("finds a correlation's whole causal chain: the command and the process manager's reactions", async () => {
    const correlationId = o1Placed().metadata.correlationId;
    expect(typeof correlationId).toBe('string');
    const expected = scan((e) => e.metadata.correlationId === correlationId);
    const found = await lookup(`correlation:${String(correlationId)}`);
    expect(found).toEqual(expected);
    expect(streamsOf(found).length).toBeGreaterThanOrEqual(3);
  });

  it('finds one event by its id; several refs give each event once, in position order', async () => {
    const reservation = events.find((e) => e.type === 'StockReserved' && field(e, 'orderId') === 'o1');
    if (reservation === undefined) throw new Error('no reservation of o1');
    expect(await lookup(`event:${reservation.id}`)).toEqual([toRef(reservation)]);
    const correlationId = o1Placed().metadata.correlationId;
    const many = await lookup('order:o1', 'order:o2', `correlation:${String(correlationId)}`, `event:${reservation.id}`, 'order:o1');
    expect(many).toEqual(scan((e) => ['o1', 'o2'].includes(String(field(e, 'orderId'))) || e.metadata.correlationId === correlationId));
    expect(await lookup('order:nope')).toEqual([]);
    expect(await lookup()).toEqual([]);
    expect(await lookup('sku:A', 'A')).toEqual([]);
  });

  it('indexes every event with its refs and nothing else; the checkpoint reaches the last event', async () => {
    const table = sql.id(liveSchemaOf(NAME), 'event_refs');
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${table}`.execute(side.handle.db);
    expect(rows[0]?.n).toBe(events.reduce((sum, e) => sum + refsOf(e).length, 0));
    expect((await reader().checkpoint()) ?? -1n).toBeGreaterThanOrEqual(events.at(-1)?.position ?? 0n);
    expect(readModels.at(-1)).toBe(eventIndexProjection);
  });

  it('re-applying batches that were applied already changes nothing', async () => {
    const before = await rowsOf(side.handle.db, eventIndexProjection, liveSchemaOf(NAME));
    const again = [...events.slice(0, 10), ...events.filter((e) => field(e, 'orderId') === 'o1')].sort((a, b) => (a.position < b.position ? -1 : 1));
    expect(await applyBatches(side.handle.db, eventIndexProjection, again, { batchSize: 4 })).toEqual([]);
    expect(await applyBatches(side.handle.db, eventIndexProjection, events)).toEqual([]);
    expect(await rowsOf(side.handle.db, eventIndexProjection, liveSchemaOf(NAME))).toEqual(before);
  });

  it('takes a full catch-up batch (5,000 events, 20,000 rows): more rows than one statement may bind', async () => {
    // 80,000 parameters: over PostgreSQL's 65,535 and PGlite's 32,767 (past which PGlite silently
    // answers nothing, to this query and every later one).
    const schema = `${liveSchemaOf(NAME)}_big`;
    const payments: RecordedEvent[] = Array.from({ length: 5_000 }, (_, i) => ({
      id: `e-${i}`,
      streamId: `payment-${i % 7}`,
      type: 'PaymentAuthorized',
      data: { paymentId: `pay-${i % 7}`, orderId: `o-${i % 7}` },
      metadata: { correlationId: `c-${i % 11}` },
      schemaVersion: 1,
      revision: BigInt(Math.floor(i / 7)),
      position: BigInt(1_000 + i),
      createdAt: new Date(0),
    }));
    await resetSchema(side.handle.db, eventIndexProjection, schema);
    await applyBatches(side.handle.db, eventIndexProjection, payments, { schema });
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.id(schema, 'event_refs')}`.execute(side.handle.db);
    expect(rows[0]?.n).toBe(20_000);
    expect(await createEventIndexReader(side.handle.db).lookup(['order:o1'])).toHaveLength(events.filter((e) => field(e, 'orderId') === 'o1').length);
    await sql`drop schema ${sql.id(schema)} cascade`.execute(side.handle.db);
  });
});
