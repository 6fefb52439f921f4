/**
 * Flash-sale board read model: per SKU, the units left, reserved and sold, and the last sale
 * (the last StockCommitted: when, which order, how many units).
 */
import type { Projection } from '../../projection.js';
import { keyFrom } from '../support/events.js';
import { applyFlashSale } from './apply.js';
import { FLASH_SALE_EVENT_TYPES } from './fold.js';
import { FLASH_SALE } from './queries.js';
import { createFlashSaleTables, FLASH_SALE_TABLES } from './tables.js';

export const flashSaleProjection: Projection = {
  name: FLASH_SALE,
  description: 'Flash-sale board per SKU: units left, reserved, sold, last sale',
  version: 1,
  eventTypes: FLASH_SALE_EVENT_TYPES,
  tables: FLASH_SALE_TABLES,
  keyOf: (event) => keyFrom(event, 'sku'),
  /** One row per SKU, written only by that SKU's events (lineage = keyOf). */
  rowsOfKey: { board: 'sku' },
  createTables: createFlashSaleTables,
  apply: applyFlashSale,
};

export * from './queries.js';
