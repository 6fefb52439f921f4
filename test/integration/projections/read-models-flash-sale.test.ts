import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../../src/platform/database.js';
import { openDatabase } from '../../../src/platform/database.js';
import { flashSaleProjection, getFlashSaleBoard, listFlashSaleBoard } from '../../../src/projections/read-models/flash-sale/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { projectionSpec } from '../../support/projection-spec.js';
import { committed, history, received, released, reserved, tracked } from '../../support/read-model-events.js';

describe('flash-sale board read model', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  const spec = projectionSpec(flashSaleProjection, () => handle.db);

  beforeAll(async () => {
    database = await createTestDatabase('rm_flash_sale');
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
  });
  afterAll(async () => {
    await handle.close();
    await database.drop();
  });

  const sale = [
    tracked('HOT', 'p-hot'),
    received('HOT', 100),
    reserved('HOT', 'o1', 2),
    reserved('HOT', 'o2', 3),
    reserved('HOT', 'o3', 1),
    committed('HOT', 'o1', 2, '2026-11-23T12:00:00.000Z'),
    released('HOT', 'o2', 3, 'expired'),
    committed('HOT', 'o3', 1, '2026-11-23T12:05:00.000Z'),
    reserved('HOT', 'o4', 5),
  ];

  it('units left, reserved and sold, with the last sale', async () => {
    await spec.given(history(...sale)).then(async (db) => {
      expect(await getFlashSaleBoard(db, { sku: 'HOT' })).toEqual([
        {
          sku: 'HOT',
          productId: 'p-hot',
          received: 100,
          unitsLeft: 92,
          reserved: 5,
          sold: 3,
          lastSale: { at: '2026-11-23T12:05:00.000Z', orderId: 'o3', quantity: 1 },
          updatedPosition: 900n,
        },
      ]);
    });
  });

  it('a SKU with no sale yet has no last sale; an untracked SKU has no row', async () => {
    await spec.given(history(tracked('COLD', 'p-cold'), received('COLD', 7))).then(async (db) => {
      expect(await getFlashSaleBoard(db, { sku: 'COLD' })).toMatchObject([{ unitsLeft: 7, reserved: 0, sold: 0, lastSale: null }]);
      expect(await getFlashSaleBoard(db, { sku: 'NONE' })).toEqual([]);
    });
  });

  it('the whole board is ordered by SKU', async () => {
    await spec.given(history(...sale, tracked('AAA', 'p-a'), received('AAA', 1))).then(async (db) => {
      expect((await getFlashSaleBoard(db)).map((row) => [row.sku, row.unitsLeft])).toEqual([
        ['AAA', 1],
        ['HOT', 92],
      ]);
    });
  });

  describe('the board as the API lists it (fewest units left first, in SQL)', () => {
    // Units left 10, 9, 9, 100, 0: as numbers, not as text ('10' < '9'); ties by SKU.
    const board = history(
      ...[
        ['TEN', 10],
        ['NINE-B', 9],
        ['NINE-A', 9],
        ['HUNDRED', 100],
        ['GONE', 2],
      ].flatMap(([sku, units]) => [tracked(String(sku), `p-${String(sku)}`), received(String(sku), Number(units))]),
      reserved('GONE', 'o1', 2),
    );

    it('orders by units left then SKU, and limits in the query', async () => {
      await spec.given(board).then(async (db) => {
        const page = await listFlashSaleBoard(db, { first: 3 });
        expect(page.items.map((row) => [row.sku, row.unitsLeft])).toEqual([
          ['GONE', 0],
          ['NINE-A', 9],
          ['NINE-B', 9],
        ]);
        expect(page.hasNextPage).toBe(true);
        expect((await listFlashSaleBoard(db, { first: 5 })).hasNextPage).toBe(false);
      });
    });

    it("pages with cursors: after a row's cursor comes the row right after it", async () => {
      await spec.given(board).then(async (db) => {
        const page = await listFlashSaleBoard(db, { first: 2 });
        const next = await listFlashSaleBoard(db, { first: 2, after: page.endCursor ?? '' });
        expect(next.items.map((row) => row.sku)).toEqual(['NINE-B', 'TEN']);
        const afterFirst = await listFlashSaleBoard(db, { first: 10, after: page.cursors[0] ?? '' });
        expect(afterFirst.items.map((row) => row.sku)).toEqual(['NINE-A', 'NINE-B', 'TEN', 'HUNDRED']);
        expect(afterFirst).toMatchObject({ hasNextPage: false, endCursor: afterFirst.cursors.at(-1) });
      });
    });

    it('refuses a forged cursor and a page size out of range', async () => {
      await spec.given(board).then(async (db) => {
        const forged = Buffer.from(JSON.stringify(['ten', 'TEN'])).toString('base64url');
        await expect(listFlashSaleBoard(db, { after: forged })).rejects.toMatchObject({ code: 'KEEL_ERR_VALIDATION', field: 'after' });
        await expect(listFlashSaleBoard(db, { first: 101 })).rejects.toMatchObject({ code: 'KEEL_ERR_VALIDATION', field: 'first' });
      });
    });
  });

  it('announces flash-sale:<sku> once per batch with the new counters', async () => {
    await spec.given(history(...sale), { batchSize: 5 }).then((_db, changes) => {
      expect(changes.map((c) => [c.topic, c.position, c.payload.unitsLeft])).toEqual([
        ['flash-sale:HOT', 500n, 94],
        ['flash-sale:HOT', 900n, 92],
      ]);
    });
  });

  it('a thousand one-unit reservations in one batch count exactly', async () => {
    const orders = Array.from({ length: 1000 }, (_, i) => reserved('HOT', `o${i}`, 1));
    await spec.given(history(tracked('HOT', 'p-hot'), received('HOT', 1000), ...orders)).then(async (db) => {
      expect(await getFlashSaleBoard(db, { sku: 'HOT' })).toMatchObject([{ unitsLeft: 0, reserved: 1000 }]);
    });
  });

  it('re-applying in a rebuild schema, one event per batch, gives the same rows', async () => {
    await spec.given(history(...sale, tracked('B', 'p-b'), received('B', 3))).thenRebuildMatches();
  });
});
