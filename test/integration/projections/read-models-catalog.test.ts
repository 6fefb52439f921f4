import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../../src/platform/database.js';
import { openDatabase } from '../../../src/platform/database.js';
import { catalogProjection, getAvailability, getProduct, listProducts } from '../../../src/projections/read-models/catalog/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { projectionSpec } from '../../support/projection-spec.js';
import {
  committed,
  delisted,
  history,
  listed,
  priceChanged,
  received,
  released,
  reserved,
  tracked,
} from '../../support/read-model-events.js';

describe('catalog read model', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  const spec = projectionSpec(catalogProjection, () => handle.db);

  beforeAll(async () => {
    database = await createTestDatabase('rm_catalog');
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
  });
  afterAll(async () => {
    await handle.close();
    await database.drop();
  });

  const listedWithStock = [listed('p1', 'SKU-1', 'Blue mug', 1299), tracked('SKU-1', 'p1'), received('SKU-1', 10)];

  it('a listed product shows its price, status and the units received', async () => {
    await spec.given(history(...listedWithStock)).then(async (db) => {
      expect(await getProduct(db, 'p1')).toEqual({
        productId: 'p1',
        sku: 'SKU-1',
        name: 'Blue mug',
        price: 1299,
        currency: 'EUR',
        status: 'listed',
        delistReason: null,
        listedAt: '2026-11-23T10:01:00.000Z',
        available: 10,
        updatedPosition: 300n,
      });
      expect(await getAvailability(db, 'SKU-1')).toEqual({
        sku: 'SKU-1',
        productId: 'p1',
        received: 10,
        reserved: 0,
        sold: 0,
        available: 10,
        updatedPosition: 300n,
      });
    });
  });

  it('availability is received − reserved − sold; a release gives the units back', async () => {
    const events = history(
      ...listedWithStock,
      reserved('SKU-1', 'o1', 3),
      reserved('SKU-1', 'o2', 2),
      committed('SKU-1', 'o1', 3),
      released('SKU-1', 'o2', 2),
      reserved('SKU-1', 'o3', 4),
    );
    await spec.given(events).then(async (db) => {
      expect(await getAvailability(db, 'SKU-1')).toMatchObject({ received: 10, reserved: 4, sold: 3, available: 3, updatedPosition: 800n });
      expect(await getProduct(db, 'p1')).toMatchObject({ available: 3, updatedPosition: 800n });
    });
  });

  it('a price change and a delisting show; the product keeps its last price', async () => {
    const events = history(...listedWithStock, priceChanged('p1', 999, 1299), delisted('p1', 'discontinued'));
    await spec.given(events).then(async (db) => {
      expect(await getProduct(db, 'p1')).toMatchObject({ price: 999, status: 'delisted', delistReason: 'discontinued', updatedPosition: 500n });
    });
  });

  it('unknown products and SKUs are absent', async () => {
    await spec.given(history(...listedWithStock)).then(async (db) => {
      expect(await getProduct(db, 'nope')).toBeUndefined();
      expect(await getAvailability(db, 'NOPE')).toBeUndefined();
    });
  });

  it('announces product and availability changes stamped with the batch’s last position', async () => {
    await spec.given(history(...listedWithStock, reserved('SKU-1', 'o1', 2))).then((_db, changes) => {
      expect(changes.map((c) => [c.topic, c.position])).toEqual([
        ['product:p1', 400n],
        ['availability:SKU-1', 400n],
      ]);
      expect(changes[0]?.payload).toMatchObject({ productId: 'p1', available: 8, updatedPosition: '400' });
      expect(changes[1]?.payload).toMatchObject({ sku: 'SKU-1', reserved: 2, available: 8, updatedPosition: '400' });
    });
  });

  it('a stock change alone also announces the product that carries the SKU', async () => {
    await spec.given(history(...listedWithStock, received('SKU-1', 5)), { batchSize: 3 }).then((_db, changes) => {
      expect(changes.slice(2).map((c) => c.topic)).toEqual(['product:p1', 'availability:SKU-1']);
      expect(changes[2]?.payload).toMatchObject({ available: 15 });
    });
  });

  describe('listing products', () => {
    // Ten products: names "Item 00".."Item 09", prices 100..1000, even ones with stock, p7 delisted.
    const catalog = history(
      ...Array.from({ length: 10 }, (_, i) => [
        listed(`p${i}`, `S${i}`, `Item 0${i}`, (i + 1) * 100),
        tracked(`S${i}`, `p${i}`),
        ...(i % 2 === 0 ? [received(`S${i}`, 5)] : []),
      ]).flat(),
      delisted('p7'),
      listed('px', 'SX', 'Special 50% off_deal', 500),
    );

    it('pages through every product by name with opaque cursors, without gaps or repeats', async () => {
      await spec.given(catalog).then(async (db) => {
        const seen: string[] = [];
        let after: string | undefined;
        for (let page = 0; page < 10; page += 1) {
          const result = await listProducts(db, { first: 4, ...(after === undefined ? {} : { after }) });
          seen.push(...result.items.map((p) => p.productId));
          if (!result.hasNextPage) break;
          after = result.endCursor ?? undefined;
        }
        expect(seen).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9', 'px']);
      });
    });

    it('the last page says there is no next page', async () => {
      await spec.given(catalog).then(async (db) => {
        const first = await listProducts(db, { first: 10 });
        expect(first.hasNextPage).toBe(true);
        const rest = await listProducts(db, { first: 10, after: first.endCursor ?? '' });
        expect(rest).toMatchObject({ hasNextPage: false, items: [{ productId: 'px' }] });
        const empty = await listProducts(db, { first: 10, after: rest.endCursor ?? '' });
        expect(empty).toEqual({ items: [], cursors: [], endCursor: null, hasNextPage: false });
      });
    });

    it("gives every item its own cursor: paging after an item's cursor continues right after it", async () => {
      await spec.given(catalog).then(async (db) => {
        const page = await listProducts(db, { first: 4 });
        expect(page.cursors).toHaveLength(4);
        expect(page.cursors.at(-1)).toBe(page.endCursor);
        expect(new Set(page.cursors).size).toBe(4);
        const afterSecond = await listProducts(db, { first: 3, after: page.cursors[1] ?? '' });
        expect(afterSecond.items.map((p) => p.productId)).toEqual(['p2', 'p3', 'p4']);
        expect(afterSecond.cursors.slice(0, 2)).toEqual(page.cursors.slice(2));
      });
    });

    it('filters by status, name, price range and stock', async () => {
      await spec.given(catalog).then(async (db) => {
        const ids = async (filter: Parameters<typeof listProducts>[1]) => (await listProducts(db, filter)).items.map((p) => p.productId);
        expect(await ids({ filter: { status: 'delisted' } })).toEqual(['p7']);
        expect(await ids({ filter: { nameContains: 'item 0' } })).toHaveLength(10);
        expect(await ids({ filter: { nameContains: '50%' } })).toEqual(['px']);
        expect(await ids({ filter: { nameContains: '_' } })).toEqual(['px']);
        expect(await ids({ filter: { minPrice: 300, maxPrice: 500 } })).toEqual(['p2', 'p3', 'p4', 'px']);
        expect(await ids({ filter: { inStock: true } })).toEqual(['p0', 'p2', 'p4', 'p6', 'p8']);
        expect(await ids({ filter: { inStock: false, status: 'listed' } })).toEqual(['p1', 'p3', 'p5', 'p9', 'px']);
      });
    });

    it('filters and cursors combine', async () => {
      await spec.given(catalog).then(async (db) => {
        const page1 = await listProducts(db, { first: 2, filter: { inStock: true } });
        const page2 = await listProducts(db, { first: 2, after: page1.endCursor ?? '', filter: { inStock: true } });
        expect([...page1.items, ...page2.items].map((p) => p.productId)).toEqual(['p0', 'p2', 'p4', 'p6']);
      });
    });

    it('refuses a forged cursor and a page size out of range', async () => {
      await spec.given(catalog).then(async (db) => {
        await expect(listProducts(db, { after: 'not-a-cursor' })).rejects.toMatchObject({ code: 'KEEL_ERR_VALIDATION', field: 'after' });
        await expect(listProducts(db, { first: 0 })).rejects.toMatchObject({ code: 'KEEL_ERR_VALIDATION', field: 'first' });
        await expect(listProducts(db, { first: 101 })).rejects.toMatchObject({ field: 'first' });
      });
    });
  });

  it('re-applying the history in a rebuild schema, one event per batch, gives the same rows', async () => {
    const events = history(
      ...listedWithStock,
      reserved('SKU-1', 'o1', 3),
      committed('SKU-1', 'o1', 3),
      priceChanged('p1', 999, 1299),
      listed('p2', 'SKU-2'),
      tracked('SKU-2', 'p2'),
      delisted('p2'),
    );
    await spec.given(events).thenRebuildMatches();
  });

  it('an event applied twice (a re-delivered batch) changes nothing', async () => {
    const events = history(...listedWithStock, reserved('SKU-1', 'o1', 3));
    await spec.given([...events, ...events], { batchSize: 4 }).then(async (db) => {
      expect(await getAvailability(db, 'SKU-1')).toMatchObject({ received: 10, reserved: 3 });
    });
  });
});
