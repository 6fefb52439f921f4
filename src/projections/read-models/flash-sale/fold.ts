/**
 * The flash-sale board's pure fold: a batch of stock events onto the loaded rows of their SKUs
 * (the counters of support/stock.ts). An event at or below a row's position changes nothing.
 */
import type { Positioned } from '../support/events.js';
import { foldStockRows, STOCK_EVENT_TYPES } from '../support/stock.js';
import type { StockCounters, StockEventType } from '../support/stock.js';

export const FLASH_SALE_EVENT_TYPES = STOCK_EVENT_TYPES;
export type FlashSaleEventType = StockEventType;

/** The board rows a batch touches, by SKU, as stored (absent if not tracked yet). */
export type FlashSaleRows = ReadonlyMap<string, StockCounters>;

export interface FlashSaleChanges {
  /** Changed rows, in the order they first changed. */
  readonly board: readonly StockCounters[];
}

export const foldFlashSale = (rows: FlashSaleRows, events: readonly Positioned<FlashSaleEventType>[]): FlashSaleChanges => ({
  board: foldStockRows(rows, events),
});
