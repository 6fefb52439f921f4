import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../../src/platform/database.js';
import { openDatabase } from '../../../src/platform/database.js';
import { getOrder, listOrdersOfCustomer, ordersProjection } from '../../../src/projections/read-models/orders/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { projectionSpec } from '../../support/projection-spec.js';
import {
  cancelled,
  committed,
  confirmed,
  history,
  historyFrom,
  paymentAuthorized,
  paymentFailed,
  paymentRefunded,
  paymentRequested,
  placed,
  placedV1,
  released,
  reserved,
} from '../../support/read-model-events.js';

describe('orders read model', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  const spec = projectionSpec(ordersProjection, () => handle.db);

  beforeAll(async () => {
    database = await createTestDatabase('rm_orders');
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
  });
  afterAll(async () => {
    await handle.close();
    await database.drop();
  });

  const lines = [
    { sku: 'A', quantity: 2, unitPrice: 500 },
    { sku: 'B', quantity: 1, unitPrice: 1500 },
  ];
  const happy = [
    placed('o1', 'c1', lines, '2026-11-23T10:00:00.000Z'),
    reserved('A', 'o1', 2, '2026-11-23T10:00:01.000Z'),
    reserved('B', 'o1', 1, '2026-11-23T10:00:01.500Z'),
    paymentRequested('o1', 2500, '2026-11-23T10:00:02.000Z'),
    paymentAuthorized('o1', 2500, '2026-11-23T10:00:03.000Z'),
    confirmed('o1', '2026-11-23T10:00:04.000Z'),
    committed('A', 'o1', 2, '2026-11-23T10:00:05.000Z'),
    committed('B', 'o1', 1, '2026-11-23T10:00:05.000Z'),
  ];

  it('placed → reserved → paid → confirmed → committed: status, payment, lines and timeline', async () => {
    await spec.given(history(...happy)).then(async (db) => {
      const order = await getOrder(db, 'o1');
      expect(order).toMatchObject({
        orderId: 'o1',
        customerId: 'c1',
        status: 'confirmed',
        paymentStatus: 'authorized',
        total: 2500,
        currency: 'EUR',
        lineCount: 2,
        placedAt: '2026-11-23T10:00:00.000Z',
        confirmedAt: '2026-11-23T10:00:04.000Z',
        cancelledAt: null,
        payment: { paymentId: 'o1', status: 'authorized', amount: 2500, refunded: 0, failureReason: null },
        lines: [
          { sku: 'A', quantity: 2, unitPrice: 500, lineTotal: 1000, stockStatus: 'committed' },
          { sku: 'B', quantity: 1, unitPrice: 1500, lineTotal: 1500, stockStatus: 'committed' },
        ],
        updatedPosition: 800n,
      });
      expect(order?.timeline.map((t) => [t.eventType, t.occurredAt, t.position])).toEqual([
        ['OrderPlaced', '2026-11-23T10:00:00.000Z', 100n],
        ['StockReserved', '2026-11-23T10:00:01.000Z', 200n],
        ['StockReserved', '2026-11-23T10:00:01.500Z', 300n],
        ['PaymentRequested', '2026-11-23T10:00:02.000Z', 400n],
        ['PaymentAuthorized', '2026-11-23T10:00:03.000Z', 500n],
        ['OrderConfirmed', '2026-11-23T10:00:04.000Z', 600n],
        ['StockCommitted', '2026-11-23T10:00:05.000Z', 700n],
        ['StockCommitted', '2026-11-23T10:00:05.000Z', 800n],
      ]);
      expect(order?.timeline[1]?.detail).toEqual({ sku: 'A', quantity: 2 });
    });
  });

  it('the timeline is in position order when batches split the story and positions grow a digit', async () => {
    await spec.given(historyFrom(500n, ...happy), { batchSize: 3 }).then(async (db) => {
      const order = await getOrder(db, 'o1');
      expect(order?.timeline.map((t) => t.position)).toEqual([500n, 600n, 700n, 800n, 900n, 1000n, 1100n, 1200n]);
      expect(order?.status).toBe('confirmed');
    });
  });

  it('a failed payment: the order is cancelled, its stock released, the payment failed', async () => {
    const events = history(
      placed('o2', 'c1', [{ sku: 'A', quantity: 1, unitPrice: 500 }]),
      reserved('A', 'o2', 1),
      paymentRequested('o2', 500),
      paymentFailed('o2', 'card declined'),
      cancelled('o2', 'payment failed: card declined'),
      released('A', 'o2', 1),
    );
    await spec.given(events).then(async (db) => {
      expect(await getOrder(db, 'o2')).toMatchObject({
        status: 'cancelled',
        cancelReason: 'payment failed: card declined',
        paymentStatus: 'failed',
        payment: { status: 'failed', failureReason: 'card declined' },
        lines: [{ sku: 'A', stockStatus: 'released' }],
      });
    });
  });

  it('an authorized payment of a cancelled order is refunded (partly, then fully)', async () => {
    const story = [
      placed('o3', 'c1', [{ sku: 'A', quantity: 2, unitPrice: 500 }]),
      paymentRequested('o3', 1000),
      paymentAuthorized('o3', 1000),
      cancelled('o3', 'reservation expired before payment'),
      paymentRefunded('o3', 400),
    ];
    await spec.given(history(...story)).then(async (db) => {
      expect(await getOrder(db, 'o3')).toMatchObject({ status: 'cancelled', paymentStatus: 'partially_refunded', payment: { refunded: 400 } });
    });
    await spec.given(history(...story, paymentRefunded('o3', 600))).then(async (db) => {
      expect(await getOrder(db, 'o3')).toMatchObject({ paymentStatus: 'refunded', payment: { amount: 1000, refunded: 1000 } });
    });
  });

  it('a version-1 OrderPlaced is read in its upcast shape: integer minor units, EUR, computed total', async () => {
    const events = history(placedV1('old', 'c9', [{ sku: 'A', qty: 3, price: '19.99' }, { sku: 'B', qty: 1, price: '5' }]));
    await spec.given(events).then(async (db) => {
      expect(await getOrder(db, 'old')).toMatchObject({
        currency: 'EUR',
        total: 3 * 1999 + 500,
        lines: [
          { sku: 'A', quantity: 3, unitPrice: 1999 },
          { sku: 'B', quantity: 1, unitPrice: 500 },
        ],
      });
    });
  });

  it('announces order changes with the status and whether it changed', async () => {
    await spec.given(history(...happy.slice(0, 3))).then(async (db, first) => {
      expect(first.map((c) => [c.topic, c.position])).toEqual([['order:o1', 300n]]);
      expect(first[0]?.payload).toMatchObject({ status: 'pending', previousStatus: null, statusChanged: true, customerId: 'c1' });
      expect(await getOrder(db, 'o1')).toMatchObject({ status: 'pending', paymentStatus: 'none' });
    });
    await spec.given(history(...happy), { batchSize: 4 }).then((_db, changes) => {
      expect(changes.map((c) => c.payload.statusChanged)).toEqual([true, true]);
      expect(changes[1]?.payload).toMatchObject({ previousStatus: 'pending', status: 'confirmed', updatedPosition: '800' });
    });
  });

  it('payment and stock events of an order never placed are ignored', async () => {
    await spec.given(history(paymentRequested('ghost', 100), reserved('A', 'ghost', 1))).then(async (db, changes) => {
      expect(await getOrder(db, 'ghost')).toBeUndefined();
      expect(changes).toEqual([]);
    });
  });

  describe("a customer's orders", () => {
    // Positions 100 to 1,200: newest first must compare them as numbers, not as text ('900' > '1000').
    const many = history(
      ...Array.from({ length: 7 }, (_, i) => placed(`c1-o${i}`, 'c1', [{ sku: 'A', quantity: 1, unitPrice: 100 * (i + 1) }])),
      placed('c2-o0', 'c2', [{ sku: 'A', quantity: 1, unitPrice: 100 }]),
      cancelled('c1-o3', 'changed my mind'),
      placed('c1-o7', 'c1', [{ sku: 'A', quantity: 1, unitPrice: 800 }]),
      placed('c1-o8', 'c1', [{ sku: 'A', quantity: 1, unitPrice: 900 }]),
      placed('c1-o9', 'c1', [{ sku: 'A', quantity: 1, unitPrice: 1000 }]),
    );

    it('newest first, paged with cursors, only that customer', async () => {
      await spec.given(many).then(async (db) => {
        const page0 = await listOrdersOfCustomer(db, 'c1', { first: 3 });
        expect(page0.items.map((o) => o.orderId)).toEqual(['c1-o9', 'c1-o8', 'c1-o7']);
        const page1 = await listOrdersOfCustomer(db, 'c1', { first: 3, after: page0.endCursor ?? '' });
        expect(page1.items.map((o) => o.orderId)).toEqual(['c1-o6', 'c1-o5', 'c1-o4']);
        expect(page1.hasNextPage).toBe(true);
        const page2 = await listOrdersOfCustomer(db, 'c1', { first: 3, after: page1.endCursor ?? '' });
        expect(page2.items.map((o) => [o.orderId, o.status])).toEqual([
          ['c1-o3', 'cancelled'],
          ['c1-o2', 'pending'],
          ['c1-o1', 'pending'],
        ]);
        const page3 = await listOrdersOfCustomer(db, 'c1', { first: 3, after: page2.endCursor ?? '' });
        expect(page3).toMatchObject({ items: [{ orderId: 'c1-o0', total: 100 }], hasNextPage: false });
        expect((await listOrdersOfCustomer(db, 'c2')).items.map((o) => o.orderId)).toEqual(['c2-o0']);
        expect((await listOrdersOfCustomer(db, 'c1', { status: 'cancelled' })).items.map((o) => o.orderId)).toEqual(['c1-o3']);
        expect((await listOrdersOfCustomer(db, 'nobody')).items).toEqual([]);
      });
    });

    it("gives every order its own cursor: paging after it continues right after that order", async () => {
      await spec.given(many).then(async (db) => {
        const page = await listOrdersOfCustomer(db, 'c1', { first: 4 });
        expect(page.items.map((o) => o.orderId)).toEqual(['c1-o9', 'c1-o8', 'c1-o7', 'c1-o6']);
        expect(page.cursors).toHaveLength(4);
        expect(page.cursors.at(-1)).toBe(page.endCursor);
        const afterFirst = await listOrdersOfCustomer(db, 'c1', { first: 2, after: page.cursors[0] ?? '' });
        expect(afterFirst.items.map((o) => o.orderId)).toEqual(['c1-o8', 'c1-o7']);
        expect(afterFirst.cursors).toEqual(page.cursors.slice(1, 3));
      });
    });

    it('filters by status and pages within the filter', async () => {
      await spec.given([...many, ...historyFrom(5_000n, cancelled('c1-o8', 'gift'), cancelled('c1-o1', 'duplicate'))]).then(async (db) => {
        const first = await listOrdersOfCustomer(db, 'c1', { first: 2, status: 'cancelled' });
        expect(first.items.map((o) => [o.orderId, o.status])).toEqual([
          ['c1-o8', 'cancelled'],
          ['c1-o3', 'cancelled'],
        ]);
        expect(first.hasNextPage).toBe(true);
        const rest = await listOrdersOfCustomer(db, 'c1', { first: 2, status: 'cancelled', after: first.endCursor ?? '' });
        expect(rest).toMatchObject({ items: [{ orderId: 'c1-o1', status: 'cancelled' }], hasNextPage: false });
        const pending = await listOrdersOfCustomer(db, 'c1', { first: 100, status: 'pending' });
        expect(pending.items.map((o) => o.orderId)).toEqual(['c1-o9', 'c1-o7', 'c1-o6', 'c1-o5', 'c1-o4', 'c1-o2', 'c1-o0']);
        expect((await listOrdersOfCustomer(db, 'c1', { status: 'confirmed' })).items).toEqual([]);
      });
    });

    it('refuses a cursor that is not one', async () => {
      await spec.given(many).then(async (db) => {
        const forged = Buffer.from(JSON.stringify(['x'])).toString('base64url');
        await expect(listOrdersOfCustomer(db, 'c1', { after: forged })).rejects.toMatchObject({ code: 'KEEL_ERR_VALIDATION', field: 'after' });
      });
    });
  });

  it('re-applying in a rebuild schema, one event per batch, gives the same rows', async () => {
    const events = history(
      ...happy,
      placed('o2', 'c1', [{ sku: 'A', quantity: 1, unitPrice: 500 }]),
      reserved('A', 'o2', 1),
      paymentRequested('o2', 500),
      paymentFailed('o2', 'card declined'),
      cancelled('o2', 'payment failed'),
      released('A', 'o2', 1),
    );
    await spec.given(events).thenRebuildMatches();
  });
});
