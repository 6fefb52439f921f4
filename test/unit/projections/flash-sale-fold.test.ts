/** The flash-sale board's fold, without a database: given loaded rows and a batch, the rows it changes. */
import { describe, expect, it } from 'vitest';
import { FLASH_SALE_EVENT_TYPES, foldFlashSale } from '../../../src/projections/read-models/flash-sale/fold.js';
import { decodeBatch } from '../../../src/projections/read-models/support/events.js';
import { emptyStock } from '../../../src/projections/read-models/support/stock.js';
import type { StockCounters } from '../../../src/projections/read-models/support/stock.js';
import type { EventSpec } from '../../support/read-model-events.js';
import { committed, historyFrom, received, released, reserved, tracked } from '../../support/read-model-events.js';

const batch = (start: bigint, ...specs: readonly EventSpec[]) => decodeBatch(FLASH_SALE_EVENT_TYPES, historyFrom(start, ...specs));
const SALE_AT = '2026-11-24T08:00:00.000Z';

describe('flash-sale fold', () => {
  it('folds stock events onto new rows, one per SKU, with the last sale', () => {
    const events = batch(
      100n,
      tracked('SKU-1', 'p1'),
      received('SKU-1', 10),
      reserved('SKU-1', 'o1', 4),
      received('SKU-2', 3),
      committed('SKU-1', 'o1', 4, SALE_AT),
    );
    expect(foldFlashSale(new Map(), events)).toEqual({
      board: [
        { sku: 'SKU-1', productId: 'p1', received: 10, reserved: 0, sold: 4, lastSale: { at: SALE_AT, orderId: 'o1', quantity: 4 }, position: 500n },
        { ...emptyStock('SKU-2'), received: 3, position: 400n },
      ],
    });
  });

  it("skips an event at or below a row's updated_position", () => {
    const row: StockCounters = { ...emptyStock('SKU-1'), productId: 'p1', received: 10, reserved: 4, position: 300n };
    const rows = new Map([['SKU-1', row]]);
    expect(foldFlashSale(rows, batch(200n, reserved('SKU-1', 'o1', 4), received('SKU-1', 1)))).toEqual({ board: [] });
    expect(foldFlashSale(rows, batch(200n, reserved('SKU-1', 'o1', 4), received('SKU-1', 1), released('SKU-1', 'o1', 4)))).toEqual({
      board: [{ ...row, reserved: 0, position: 400n }],
    });
    expect(rows.get('SKU-1')).toEqual(row);
  });
});
