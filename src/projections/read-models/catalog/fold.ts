/**
 * The catalog's pure fold: a batch of product and stock events onto the loaded rows, in memory.
 * An event at or below a row's position was applied already and changes nothing.
 */
import type { Positioned } from '../support/events.js';
import { foldStockRows, STOCK_EVENT_TYPES } from '../support/stock.js';
import type { StockCounters, StockEventType } from '../support/stock.js';
import type { ProductStatus } from './tables.js';

export const PRODUCT_EVENT_TYPES = ['ProductListed', 'ProductPriceChanged', 'ProductDelisted'] as const;
export const CATALOG_EVENT_TYPES = [...PRODUCT_EVENT_TYPES, ...STOCK_EVENT_TYPES] as const;
export type ProductEventType = (typeof PRODUCT_EVENT_TYPES)[number];
export type CatalogEventType = (typeof CATALOG_EVENT_TYPES)[number];
const productTypes: readonly string[] = PRODUCT_EVENT_TYPES;

/** A product as the fold sees it. */
export interface ProductState {
  readonly productId: string;
  readonly sku: string;
  readonly name: string;
  readonly price: number;
  readonly currency: string;
  readonly status: ProductStatus;
  readonly delistReason: string | null;
  readonly listedAt: string;
  readonly position: bigint;
}

/** The rows a batch touches (loaded), or the rows it changed (folded). */
export interface CatalogRows {
  readonly products: ReadonlyMap<string, ProductState>;
  readonly stock: ReadonlyMap<string, StockCounters>;
}

export interface CatalogChanges {
  /** Changed rows, in the order they first changed. */
  readonly products: readonly ProductState[];
  readonly stock: readonly StockCounters[];
}

export const isProductEvent = (e: Positioned<CatalogEventType>): e is Positioned<ProductEventType> =>
  productTypes.includes(e.event.type);
export const isStockEvent = (e: Positioned<CatalogEventType>): e is Positioned<StockEventType> => !isProductEvent(e);

export const foldProduct = (
  row: ProductState | undefined,
  { event, position, time }: Positioned<ProductEventType>,
): ProductState | undefined => {
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

const foldProducts = (
  rows: ReadonlyMap<string, ProductState>,
  events: readonly Positioned<ProductEventType>[],
): ProductState[] => {
  const products = new Map(rows);
  const changed = new Set<string>();
  for (const e of events) {
    const before = products.get(e.event.data.productId);
    const after = foldProduct(before, e);
    if (after !== undefined && after !== before) {
      products.set(after.productId, after);
      changed.add(after.productId);
    }
  }
  return [...changed].flatMap((id) => products.get(id) ?? []);
};

/** Folds a batch onto the rows it touches: the products and SKUs it changed. */
export const foldCatalog = (rows: CatalogRows, events: readonly Positioned<CatalogEventType>[]): CatalogChanges => ({
  products: foldProducts(rows.products, events.filter(isProductEvent)),
  stock: foldStockRows(rows.stock, events.filter(isStockEvent)),
});
