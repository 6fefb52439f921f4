/** The catalog's fold, without a database: given loaded rows and a batch, the rows it changes. */
import { describe, expect, it } from 'vitest';
import { CATALOG_EVENT_TYPES, foldCatalog } from '../../../src/projections/read-models/catalog/fold.js';
import type { CatalogRows, ProductState } from '../../../src/projections/read-models/catalog/fold.js';
import { decodeBatch } from '../../../src/projections/read-models/support/events.js';
import { emptyStock } from '../../../src/projections/read-models/support/stock.js';
import type { EventSpec } from '../../support/read-model-events.js';
import { delisted, historyFrom, listed, priceChanged, received, reserved, tracked } from '../../support/read-model-events.js';

const batch = (start: bigint, ...specs: readonly EventSpec[]) => decodeBatch(CATALOG_EVENT_TYPES, historyFrom(start, ...specs));
const none: CatalogRows = { products: new Map(), stock: new Map() };

const p1: ProductState = {
  productId: 'p1',
  sku: 'SKU-1',
  name: 'Product p1',
  price: 1200,
  currency: 'EUR',
  status: 'listed',
  delistReason: null,
  listedAt: '2026-11-23T10:01:00.000Z',
  position: 200n,
};

describe('catalog fold', () => {
  it('folds product and stock events onto new rows', () => {
    const events = batch(100n, listed('p1', 'SKU-1'), priceChanged('p1', 1200, 1000), tracked('SKU-1', 'p1'), received('SKU-1', 10), reserved('SKU-1', 'o1', 3));
    expect(foldCatalog(none, events)).toEqual({
      products: [p1],
      stock: [{ ...emptyStock('SKU-1'), productId: 'p1', received: 10, reserved: 3, position: 500n }],
    });
  });

  it("skips an event at or below a row's updated_position", () => {
    const stock = { ...emptyStock('SKU-1'), productId: 'p1', received: 10, position: 400n };
    const rows: CatalogRows = { products: new Map([['p1', p1]]), stock: new Map([['SKU-1', stock]]) };
    // Positions 100 and 200 (products at 200), 300 and 400 (stock at 400): all applied already.
    expect(foldCatalog(rows, batch(100n, priceChanged('p1', 900, 1200), delisted('p1', 'gone')))).toEqual({ products: [], stock: [] });
    expect(foldCatalog(rows, batch(300n, received('SKU-1', 5), received('SKU-1', 7)))).toEqual({ products: [], stock: [] });
    // 200 and 400 are skipped, 300 and 500 applied.
    const events = batch(200n, priceChanged('p1', 900, 1200), delisted('p1', 'gone'), received('SKU-1', 7), received('SKU-1', 2));
    expect(foldCatalog(rows, events)).toEqual({
      products: [{ ...p1, status: 'delisted', delistReason: 'gone', position: 300n }],
      stock: [{ ...stock, received: 12, position: 500n }],
    });
  });

  it('ignores a price change or delisting of a product never listed, and leaves the loaded rows alone', () => {
    const rows: CatalogRows = { products: new Map([['p1', p1]]), stock: new Map() };
    expect(foldCatalog(rows, batch(300n, priceChanged('p2', 900, 1000), delisted('p2')))).toEqual({ products: [], stock: [] });
    foldCatalog(rows, batch(300n, priceChanged('p1', 900, 1200)));
    expect(rows.products.get('p1')).toEqual(p1);
  });
});
