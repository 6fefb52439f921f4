/**
 * The catalog's rows in and out of a batch: load the products and SKUs the batch touches (one query
 * per table), save the changed ones (one multi-row upsert per table).
 */
import type { Insertable, Kysely } from 'kysely';
import { distinct } from '../support/events.js';
import type { Positioned } from '../support/events.js';
import { asText } from '../support/sql.js';
import { emptyStock } from '../support/stock.js';
import type { StockCounters } from '../support/stock.js';
import { upsertRows } from '../support/upsert.js';
import { isProductEvent, isStockEvent } from './fold.js';
import type { CatalogChanges, CatalogEventType, CatalogRows, ProductState } from './fold.js';
import type { AvailabilityTable, CatalogDb, CatalogTables, ProductsTable } from './tables.js';

const scoped = (db: Kysely<unknown>, schema: string): CatalogDb => db.withSchema(schema).withTables<CatalogTables>();

const loadProducts = async (db: CatalogDb, ids: readonly string[]): Promise<Map<string, ProductState>> => {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('products')
    .select(['product_id', 'sku', 'name', 'price', 'currency', 'status', 'delist_reason', 'listed_at'])
    .select(asText('updated_position').as('updated_position'))
    .where('product_id', 'in', ids)
    .execute();
  return new Map(
    rows.map((r) => [
      r.product_id,
      {
        productId: r.product_id,
        sku: r.sku,
        name: r.name,
        price: r.price,
        currency: r.currency,
        status: r.status,
        delistReason: r.delist_reason,
        listedAt: new Date(r.listed_at).toISOString(),
        position: BigInt(r.updated_position),
      },
    ]),
  );
};

const loadStock = async (db: CatalogDb, skus: readonly string[]): Promise<Map<string, StockCounters>> => {
  if (skus.length === 0) return new Map();
  const rows = await db
    .selectFrom('availability')
    .select(['sku', 'product_id'])
    .select([asText('received').as('received'), asText('reserved').as('reserved'), asText('sold').as('sold')])
    .select(asText('updated_position').as('updated_position'))
    .where('sku', 'in', skus)
    .execute();
  return new Map(
    rows.map((r) => [
      r.sku,
      {
        ...emptyStock(r.sku),
        productId: r.product_id,
        received: Number(r.received),
        reserved: Number(r.reserved),
        sold: Number(r.sold),
        position: BigInt(r.updated_position),
      },
    ]),
  );
};

/** The products and SKUs the batch's events concern, as stored (absent if not stored yet). */
export const loadCatalog = async (
  db: Kysely<unknown>,
  schema: string,
  events: readonly Positioned<CatalogEventType>[],
): Promise<CatalogRows> => {
  const catalog = scoped(db, schema);
  return {
    products: await loadProducts(catalog, distinct(events.filter(isProductEvent).map((e) => e.event.data.productId))),
    stock: await loadStock(catalog, distinct(events.filter(isStockEvent).map((e) => e.event.data.sku))),
  };
};

const productRow = (p: ProductState): Insertable<ProductsTable> => ({
  product_id: p.productId,
  sku: p.sku,
  name: p.name,
  price: p.price,
  currency: p.currency,
  status: p.status,
  delist_reason: p.delistReason,
  listed_at: p.listedAt,
  updated_position: p.position,
});

const availabilityRow = (s: StockCounters): Insertable<AvailabilityTable> => ({
  sku: s.sku,
  product_id: s.productId,
  received: s.received,
  reserved: s.reserved,
  sold: s.sold,
  updated_position: s.position,
});

export const saveCatalog = async (db: Kysely<unknown>, schema: string, changes: CatalogChanges): Promise<void> => {
  await upsertRows(db, schema, 'products', changes.products.map(productRow), {
    key: ['product_id'],
    columns: ['sku', 'name', 'price', 'currency', 'status', 'delist_reason', 'listed_at', 'updated_position'],
  });
  await upsertRows(db, schema, 'availability', changes.stock.map(availabilityRow), {
    key: ['sku'],
    columns: ['product_id', 'received', 'reserved', 'sold', 'updated_position'],
  });
};
