/**
 * The catalog's batch handler: load the rows the batch touches, fold the events onto them in
 * memory (an event at or below a row's position is skipped, so a re-delivered event changes
 * nothing), write each changed row back with one multi-row upsert per table, then read back the
 * payloads to announce. A handful of statements per batch, whatever its size.
 */
import type { Transaction } from 'kysely';
import type { RecordedEvent } from '../../../eventstore/port.js';
import type { ApplyContext, ProjectionChange } from '../../projection.js';
import { availabilityTopic, productTopic } from '../topics.js';
import { decodeBatch, distinct, lastPosition } from '../support/events.js';
import type { Positioned } from '../support/events.js';
import { emptyStock, foldStock, STOCK_EVENT_TYPES } from '../support/stock.js';
import type { StockEventType } from '../support/stock.js';
import { getAvailabilityIn, getProductsIn } from './queries.js';
import { loadProducts, loadStock, saveProducts, saveStock } from './rows.js';
import type { ProductState } from './rows.js';
import type { CatalogTables } from './tables.js';
import { availabilityToPayload, productToPayload } from './views.js';

export const PRODUCT_EVENT_TYPES = ['ProductListed', 'ProductPriceChanged', 'ProductDelisted'] as const;
export const CATALOG_EVENT_TYPES = [...PRODUCT_EVENT_TYPES, ...STOCK_EVENT_TYPES] as const;
type ProductEventType = (typeof PRODUCT_EVENT_TYPES)[number];
type CatalogEventType = (typeof CATALOG_EVENT_TYPES)[number];
const productTypes: readonly string[] = PRODUCT_EVENT_TYPES;

const isProductEvent = (e: Positioned<CatalogEventType>): e is Positioned<ProductEventType> => productTypes.includes(e.event.type);
const isStockEvent = (e: Positioned<CatalogEventType>): e is Positioned<StockEventType> => !isProductEvent(e);

const foldProduct = (row: ProductState | undefined, { event, position, time }: Positioned<ProductEventType>): ProductState | undefined => {
  if (row !== undefined && position <= row.position) return row;
  switch (event.type) {
    case 'ProductListed': {
      const { productId, sku, name, price, currency } = event.data;
      return { productId, sku, name, price, currency, status: 'listed', delistReason: null, listedAt: time, position };
    }
    case 'ProductPriceChanged':
      return row === undefined ? row : { ...row, price: event.data.price, position };
    case 'ProductDelisted':
      return row === undefined ? row : { ...row, status: 'delisted', delistReason: event.data.reason ?? null, position };
  }
};

export const applyCatalog = async (
  trx: Transaction<unknown>,
  events: readonly RecordedEvent[],
  context: ApplyContext,
): Promise<readonly ProjectionChange[]> => {
  const db = trx.withSchema(context.schema).withTables<CatalogTables>();
  const decoded = decodeBatch(CATALOG_EVENT_TYPES, events);
  const productEvents = decoded.filter(isProductEvent);
  const stockEvents = decoded.filter(isStockEvent);

  const products = await loadProducts(db, distinct(productEvents.map((e) => e.event.data.productId)));
  const stock = await loadStock(db, distinct(stockEvents.map((e) => e.event.data.sku)));
  const changedProducts = new Set<string>();
  const changedSkus = new Set<string>();
  for (const e of productEvents) {
    const before = products.get(e.event.data.productId);
    const after = foldProduct(before, e);
    if (after !== undefined && after !== before) {
      products.set(after.productId, after);
      changedProducts.add(after.productId);
    }
  }
  for (const e of stockEvents) {
    const { sku } = e.event.data;
    const before = stock.get(sku) ?? emptyStock(sku);
    const after = foldStock(before, e);
    if (after !== before) {
      stock.set(sku, after);
      changedSkus.add(sku);
    }
  }
  await saveProducts(db, [...changedProducts].flatMap((id) => products.get(id) ?? []));
  await saveStock(db, [...changedSkus].flatMap((sku) => stock.get(sku) ?? []));
  if (context.rebuilding || (changedProducts.size === 0 && changedSkus.size === 0)) return [];

  const position = lastPosition(events);
  const availability = await getAvailabilityIn(db, [...changedSkus]);
  const ofSkus = changedSkus.size === 0
    ? []
    : await db.selectFrom('products').select('product_id').where('sku', 'in', [...changedSkus]).execute();
  const views = await getProductsIn(db, distinct([...changedProducts, ...ofSkus.map((r) => r.product_id)]));
  return [
    ...views.map((view) => ({ topic: productTopic(view.productId), position, payload: productToPayload(view) })),
    ...availability.map((view) => ({ topic: availabilityTopic(view.sku), position, payload: availabilityToPayload(view) })),
  ];
};
