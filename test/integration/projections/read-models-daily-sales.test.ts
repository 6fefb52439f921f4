import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../../src/platform/database.js';
import { openDatabase } from '../../../src/platform/database.js';
import { dailySales, dailySalesProjection } from '../../../src/projections/read-models/daily-sales/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { projectionSpec } from '../../support/projection-spec.js';
import {
  cancelled,
  committed,
  confirmed,
  history,
  listed,
  placed,
  placedV1,
  released,
  reserved,
  tracked,
} from '../../support/read-model-events.js';

describe('daily sales read model', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  const spec = projectionSpec(dailySalesProjection, () => handle.db);

  beforeAll(async () => {
    database = await createTestDatabase('rm_daily_sales');
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
  });
  afterAll(async () => {
    await handle.close();
    await database.drop();
  });

  const products = [tracked('A', 'pa'), listed('pa', 'A'), tracked('B', 'pb'), listed('pb', 'B')];
  const sold = (orderId: string, sku: string, quantity: number, unitPrice: number, at: string) => [
    placed(orderId, 'c1', [{ sku, quantity, unitPrice }], at),
    reserved(sku, orderId, quantity, at),
    confirmed(orderId, at),
    committed(sku, orderId, quantity, at),
  ];
  const all = { from: '2026-01-01', to: '2026-12-31' };

  it('a committed reservation is a sale, at the order line’s price, on the UTC day of the commit', async () => {
    const events = history(
      ...products,
      ...sold('o1', 'A', 2, 500, '2026-11-23T09:00:00.000Z'),
      ...sold('o2', 'A', 1, 450, '2026-11-23T18:00:00.000Z'),
      ...sold('o3', 'B', 3, 100, '2026-11-23T12:00:00.000Z'),
    );
    await spec.given(events).then(async (db) => {
      expect(await dailySales(db, { productId: 'pa', ...all })).toEqual([
        {
          productId: 'pa',
          day: '2026-11-23',
          currency: 'EUR',
          units: 3,
          revenue: 1450,
          orders: 2,
          lastSaleAt: '2026-11-23T18:00:00.000Z',
          updatedPosition: 1200n,
        },
      ]);
      expect((await dailySales(db, all)).map((r) => [r.productId, r.units, r.revenue])).toEqual([
        ['pa', 3, 1450],
        ['pb', 3, 300],
      ]);
    });
  });

  it('reservations, releases and cancelled orders are not sales', async () => {
    const events = history(
      ...products,
      placed('o1', 'c1', [{ sku: 'A', quantity: 2, unitPrice: 500 }]),
      reserved('A', 'o1', 2),
      cancelled('o1', 'payment failed'),
      released('A', 'o1', 2),
      placed('o2', 'c1', [{ sku: 'A', quantity: 1, unitPrice: 500 }]),
      reserved('A', 'o2', 1),
    );
    await spec.given(events).then(async (db) => {
      expect(await dailySales(db, all)).toEqual([]);
    });
  });

  it('UTC day boundaries: 23:59:59.999Z and 00:00Z are different days, whatever the offset written', async () => {
    const events = history(
      ...products,
      ...sold('late', 'A', 1, 100, '2026-11-23T23:59:59.999Z'),
      ...sold('early', 'A', 2, 100, '2026-11-24T00:00:00.000Z'),
      // 01:30 in UTC+02:00 is 23:30 UTC the day before.
      ...sold('offset', 'A', 4, 100, '2026-11-25T01:30:00.000+02:00'),
    );
    await spec.given(events).then(async (db) => {
      expect((await dailySales(db, { productId: 'pa', ...all })).map((r) => [r.day, r.units])).toEqual([
        ['2026-11-23', 1],
        ['2026-11-24', 6],
      ]);
      expect((await dailySales(db, { from: '2026-11-24', to: '2026-11-24' })).map((r) => r.units)).toEqual([6]);
      expect(await dailySales(db, { from: '2026-11-25', to: '2026-11-30' })).toEqual([]);
    });
  });

  it('prices version-1 orders through their upcast (decimal euros → cents)', async () => {
    const events = history(
      ...products,
      placedV1('v1', 'c1', [{ sku: 'B', qty: 2, price: '19.99' }], '2026-11-23T10:00:00.000Z'),
      reserved('B', 'v1', 2),
      committed('B', 'v1', 2, '2026-11-23T10:05:00.000Z'),
    );
    await spec.given(events).then(async (db) => {
      expect(await dailySales(db, { productId: 'pb', ...all })).toMatchObject([{ units: 2, revenue: 3998, currency: 'EUR' }]);
    });
  });

  it('announces daily-sales:<productId> for the days a batch changed', async () => {
    const events = history(...products, ...sold('o1', 'A', 2, 500, '2026-11-23T09:00:00.000Z'));
    await spec.given(events).then((_db, changes) => {
      expect(changes.map((c) => [c.topic, c.payload.day, c.payload.units])).toEqual([['daily-sales:pa', '2026-11-23', 2]]);
    });
  });

  it('refuses days that are not calendar days', async () => {
    await spec.given(history(...products)).then(async (db) => {
      await expect(dailySales(db, { from: '2026-02-30', to: '2026-03-01' })).rejects.toMatchObject({ code: 'KEEL_ERR_VALIDATION', field: 'from' });
      await expect(dailySales(db, { from: '2026-02-01', to: 'tomorrow' })).rejects.toMatchObject({ field: 'to' });
    });
  });

  it('re-applying in a rebuild schema, one event per batch, gives the same rows', async () => {
    const events = history(
      ...products,
      ...sold('o1', 'A', 2, 500, '2026-11-23T09:00:00.000Z'),
      ...sold('o2', 'B', 1, 450, '2026-11-24T18:00:00.000Z'),
      placed('o3', 'c1', [{ sku: 'A', quantity: 1, unitPrice: 500 }]),
      cancelled('o3', 'changed my mind'),
    );
    await spec.given(events).thenRebuildMatches();
  });
});
