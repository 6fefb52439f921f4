/** Daily sales' fold, without a database: given loaded rows and a batch, the rows it changes. */
import { describe, expect, it } from 'vitest';
import { DAILY_SALES_EVENT_TYPES, foldDailySales, lineKey } from '../../../src/projections/read-models/daily-sales/fold.js';
import type { DailySalesRows, Line } from '../../../src/projections/read-models/daily-sales/fold.js';
import { decodeBatch } from '../../../src/projections/read-models/support/events.js';
import type { EventSpec } from '../../support/read-model-events.js';
import { cancelled, committed, historyFrom, listed, placed, tracked } from '../../support/read-model-events.js';

const batch = (start: bigint, ...specs: readonly EventSpec[]) => decodeBatch(DAILY_SALES_EVENT_TYPES, historyFrom(start, ...specs));
const none: DailySalesRows = { skus: new Map(), lines: new Map() };
const SALE_AT = '2026-11-24T23:30:00.000+01:00';

const line: Line = { orderId: 'o1', sku: 'SKU-1', quantity: 2, amount: 1000, currency: 'EUR', soldPosition: null };
const sale = { productId: 'p1', day: '2026-11-24', currency: 'EUR', units: 2, revenue: 1000, orders: 1, at: '2026-11-24T22:30:00.000Z' };

describe('daily sales fold', () => {
  it('learns SKUs and lines, and counts a commit as a sale on its UTC day', () => {
    const events = batch(
      100n,
      tracked('SKU-1', 'p1'),
      listed('p1', 'SKU-1'),
      placed('o1', 'c1', [{ sku: 'SKU-1', quantity: 2, unitPrice: 500 }]),
      placed('o2', 'c1', [{ sku: 'SKU-1', quantity: 1, unitPrice: 500 }]),
      cancelled('o2', 'changed mind'),
      committed('SKU-1', 'o1', 2, SALE_AT),
    );
    expect(foldDailySales(none, events)).toEqual({
      skuProducts: [{ sku: 'SKU-1', productId: 'p1' }],
      lines: [{ ...line, soldPosition: 600n }, { ...line, orderId: 'o2', quantity: 1, amount: 500 }],
      cancelledOrders: ['o2'],
      sales: [{ ...sale, position: 600n }],
    });
  });

  it("skips a commit at or below its line's sold position, and a line placed in an earlier batch", () => {
    const rows: DailySalesRows = { skus: new Map([['SKU-1', 'p1']]), lines: new Map([[lineKey('o1', 'SKU-1'), { ...line, soldPosition: 300n }]]) };
    const again = batch(100n, tracked('SKU-1', 'p9'), placed('o1', 'c1', [{ sku: 'SKU-1', quantity: 5, unitPrice: 1 }]), committed('SKU-1', 'o1', 2, SALE_AT));
    expect(foldDailySales(rows, again)).toEqual({ skuProducts: [], lines: [], cancelledOrders: [], sales: [] });
    expect(rows.lines.get(lineKey('o1', 'SKU-1'))).toEqual({ ...line, soldPosition: 300n });
  });

  it('sums the sales of a batch per product, day and currency', () => {
    const rows: DailySalesRows = {
      skus: new Map([['SKU-1', 'p1']]),
      lines: new Map([
        [lineKey('o1', 'SKU-1'), line],
        [lineKey('o2', 'SKU-1'), { ...line, orderId: 'o2', quantity: 3, amount: 1000 }],
      ]),
    };
    const events = batch(400n, committed('SKU-1', 'o1', 2, SALE_AT), committed('SKU-1', 'o2', 1, '2026-11-24T09:00:00.000Z'));
    expect(foldDailySales(rows, events).sales).toEqual([{ ...sale, units: 3, revenue: 1333, orders: 2, position: 500n }]);
  });

  it('throws on a commit whose order line is unknown', () => {
    expect(() => foldDailySales(none, batch(100n, tracked('SKU-1', 'p1'), committed('SKU-1', 'o1', 1)))).toThrow(/line is unknown/);
  });
});
