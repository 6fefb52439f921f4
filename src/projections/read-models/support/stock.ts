/**
 * The stock counters of one SKU, folded from inventory events. Shared by the catalog (availability)
 * and the flash-sale board, which keep them in tables of their own (read models rebuild apart).
 * `available` = received − reserved − sold, as the inventory decider computes it.
 */
import type { Positioned } from './events.js';

export const STOCK_EVENT_TYPES = ['SkuTracked', 'StockReceived', 'StockReserved', 'StockReleased', 'StockCommitted'] as const;
export type StockEventType = (typeof STOCK_EVENT_TYPES)[number];

export interface StockCounters {
  readonly sku: string;
  readonly productId: string | null;
  readonly received: number;
  readonly reserved: number;
  readonly sold: number;
  /** The last committed sale (StockCommitted). */
  readonly lastSale: { readonly at: string; readonly orderId: string; readonly quantity: number } | null;
  /** Position of the last event applied to this SKU. */
  readonly position: bigint;
}

export const emptyStock = (sku: string): StockCounters => ({
  sku,
  productId: null,
  received: 0,
  reserved: 0,
  sold: 0,
  lastSale: null,
  position: -1n,
});

/**
 * Applies one event. An event at or below the row's position was applied already and changes
 * nothing, so re-delivering a batch leaves the counters as they are.
 */
export const foldStock = (row: StockCounters, { event, position }: Positioned<StockEventType>): StockCounters => {
  if (position <= row.position) return row;
  switch (event.type) {
    case 'SkuTracked':
      return { ...row, productId: row.productId ?? event.data.productId, position };
    case 'StockReceived':
      return { ...row, received: row.received + event.data.quantity, position };
    case 'StockReserved':
      return { ...row, reserved: row.reserved + event.data.quantity, position };
    case 'StockReleased':
      return { ...row, reserved: row.reserved - event.data.quantity, position };
    case 'StockCommitted': {
      const { quantity, orderId, committedAt } = event.data;
      const lastSale = { at: new Date(committedAt).toISOString(), orderId, quantity };
      return { ...row, reserved: row.reserved - quantity, sold: row.sold + quantity, lastSale, position };
    }
  }
};

/**
 * Folds a batch of stock events onto the loaded rows of their SKUs (an unknown SKU starts empty):
 * the rows that changed, in the order they first changed. The loaded rows are left as they are.
 */
export const foldStockRows = (
  rows: ReadonlyMap<string, StockCounters>,
  events: readonly Positioned<StockEventType>[],
): StockCounters[] => {
  const stock = new Map(rows);
  const changed = new Set<string>();
  for (const e of events) {
    const { sku } = e.event.data;
    const before = stock.get(sku) ?? emptyStock(sku);
    const after = foldStock(before, e);
    if (after !== before) {
      stock.set(sku, after);
      changed.add(sku);
    }
  }
  return [...changed].flatMap((sku) => stock.get(sku) ?? []);
};
