/**
 * Catalog read model: every product with its current price and status, and the live availability
 * of every SKU (received − reserved − sold). Answers the product list (cursor pagination, filters),
 * product detail and availability by SKU.
 */
import type { Projection } from '../../projection.js';
import { keyFrom } from '../support/events.js';
import { applyCatalog } from './apply.js';
import { CATALOG_EVENT_TYPES, PRODUCT_EVENT_TYPES } from './fold.js';
import { CATALOG } from './queries.js';
import { CATALOG_TABLES, createCatalogTables } from './tables.js';

const productEventTypes: readonly string[] = PRODUCT_EVENT_TYPES;

export const catalogProjection: Projection = {
  name: CATALOG,
  description: 'Products with current price and status, and live availability per SKU',
  version: 1,
  eventTypes: CATALOG_EVENT_TYPES,
  tables: CATALOG_TABLES,
  /** Product events by product id, stock events by SKU. */
  keyOf: (event) => (productEventTypes.includes(event.type) ? keyFrom(event, 'productId') : keyFrom(event, 'sku')),
  /** A key is a product id (its products row, from product events) or a SKU (its availability row, from stock events). */
  rowsOfKey: { products: 'product_id', availability: 'sku' },
  createTables: createCatalogTables,
  apply: applyCatalog,
};

export * from './queries.js';
export type { AvailabilityView, ProductView } from './views.js';
export { availabilityFromPayload, availabilityToPayload, productFromPayload, productToPayload } from './views.js';
export type { ProductStatus } from './tables.js';
