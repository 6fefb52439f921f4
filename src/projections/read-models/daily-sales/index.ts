/**
 * Daily sales read model: units and revenue per product and UTC day (and currency). A sale is a
 * committed reservation (`StockCommitted`), priced at the order line's unit price.
 */
import type { Projection } from '../../projection.js';
import { keyFrom } from '../support/events.js';
import { applyDailySales } from './apply.js';
import { DAILY_SALES_EVENT_TYPES } from './fold.js';
import { DAILY_SALES } from './queries.js';
import { createDailySalesTables, DAILY_SALES_TABLES } from './tables.js';

export const dailySalesProjection: Projection = {
  name: DAILY_SALES,
  description: 'Daily sales per product (UTC day): units and revenue of committed sales',
  version: 1,
  eventTypes: DAILY_SALES_EVENT_TYPES,
  tables: DAILY_SALES_TABLES,
  /** Order and stock-commit events by order id (a sale needs its order's line); SKU listings by SKU. */
  keyOf: (event) => keyFrom(event, 'orderId', 'sku'),
  createTables: createDailySalesTables,
  apply: applyDailySales,
};

export * from './queries.js';
