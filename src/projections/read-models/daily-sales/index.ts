/**
 * Daily sales read model: units and revenue per product and UTC day (and currency). A sale is a
 * committed reservation (`StockCommitted`), priced at the order line's unit price.
 */
import type { RecordedEvent } from '../../../eventstore/port.js';
import type { Projection } from '../../projection.js';
import { keyFrom, rawField } from '../support/events.js';
import { utcDay } from '../support/sql.js';
import { applyDailySales } from './apply.js';
import { DAILY_SALES_EVENT_TYPES } from './fold.js';
import { DAILY_SALES } from './queries.js';
import { createDailySalesTables, DAILY_SALES_TABLES } from './tables.js';

/**
 * Lineage: the day totals aggregate every sale of a UTC day, so their key is the day
 * (`YYYY-MM-DD`): a sale (StockCommitted) writes its order's line (key: order id) and its day's
 * totals (key: the day of `committedAt`), and it reads its order's line and its SKU's product.
 */
const saleDay = (event: RecordedEvent): string[] => {
  const at = event.type === 'StockCommitted' ? rawField(event, 'committedAt') : undefined;
  return at === undefined || Number.isNaN(Date.parse(at)) ? [] : [utcDay(at)];
};

export const dailySalesProjection: Projection = {
  name: DAILY_SALES,
  description: 'Daily sales per product (UTC day): units and revenue of committed sales',
  version: 1,
  eventTypes: DAILY_SALES_EVENT_TYPES,
  tables: DAILY_SALES_TABLES,
  /** Order and stock-commit events by order id (a sale needs its order's line); SKU listings by SKU. */
  keyOf: (event) => keyFrom(event, 'orderId', 'sku'),
  lineageKeysOf: (event) => [keyFrom(event, 'orderId', 'sku'), ...saleDay(event)],
  lineageInputsOf: (event) => (event.type === 'StockCommitted' ? [keyFrom(event, 'orderId'), keyFrom(event, 'sku')] : []),
  /** A key is a SKU (its product), an order id (its lines) or a UTC day (every product's totals of that day). */
  rowsOfKey: { sku_products: 'sku', order_lines: 'order_id', daily_sales: 'day' },
  createTables: createDailySalesTables,
  apply: applyDailySales,
};

export * from './queries.js';
