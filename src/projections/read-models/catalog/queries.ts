/**
 * The catalog's queries. Public functions take the untyped database and read the live schema;
 * the `…In` variants take a database already scoped to a schema (the batch handler uses them to
 * build the payloads it announces, so a notice carries exactly what a query returns).
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { ValidationError } from '../../../platform/errors.js';
import { liveSchemaOf } from '../../projection.js';
import { decodeCursor, pageSize, toPage } from '../support/pagination.js';
import type { Page, PageRequest } from '../support/pagination.js';
import { asText, toIso } from '../support/sql.js';
import type { CatalogDb, CatalogTables, ProductStatus } from './tables.js';
import type { AvailabilityView, ProductView } from './views.js';

export const CATALOG = 'catalog';

const live = (db: Kysely<unknown>): CatalogDb => db.withSchema(liveSchemaOf(CATALOG)).withTables<CatalogTables>();

const productColumns = (db: CatalogDb) =>
  db
    .selectFrom('products as p')
    .leftJoin('availability as a', 'a.sku', 'p.sku')
    .select([
      'p.product_id',
      'p.sku',
      'p.name',
      'p.price',
      'p.currency',
      'p.status',
      'p.delist_reason',
      'p.listed_at',
      sql<string>`coalesce(a.available, 0)::text`.as('available'),
      sql<string>`greatest(p.updated_position, coalesce(a.updated_position, 0))::text`.as('updated_position'),
    ]);

type ProductSelect = Awaited<ReturnType<ReturnType<typeof productColumns>['execute']>>[number];

const toProduct = (row: ProductSelect): ProductView => ({
  productId: row.product_id,
  sku: row.sku,
  name: row.name,
  price: row.price,
  currency: row.currency,
  status: row.status,
  delistReason: row.delist_reason,
  listedAt: toIso(row.listed_at),
  available: Number(row.available),
  updatedPosition: BigInt(row.updated_position),
});

export const getProductsIn = async (db: CatalogDb, productIds: readonly string[]): Promise<ProductView[]> => {
  if (productIds.length === 0) return [];
  const rows = await productColumns(db).where('p.product_id', 'in', productIds).orderBy('p.product_id').execute();
  return rows.map(toProduct);
};

export const getAvailabilityIn = async (db: CatalogDb, skus: readonly string[]): Promise<AvailabilityView[]> => {
  if (skus.length === 0) return [];
  const rows = await db
    .selectFrom('availability')
    .select([
      'sku',
      'product_id',
      asText('received').as('received'),
      asText('reserved').as('reserved'),
      asText('sold').as('sold'),
      asText('available').as('available'),
      asText('updated_position').as('updated_position'),
    ])
    .where('sku', 'in', skus)
    .orderBy('sku')
    .execute();
  return rows.map((row) => ({
    sku: row.sku,
    productId: row.product_id,
    received: Number(row.received),
    reserved: Number(row.reserved),
    sold: Number(row.sold),
    available: Number(row.available),
    updatedPosition: BigInt(row.updated_position),
  }));
};

export const getProductsBySkuIn = async (db: CatalogDb, skus: readonly string[]): Promise<ProductView[]> => {
  if (skus.length === 0) return [];
  const rows = await productColumns(db).where('p.sku', 'in', skus).orderBy('p.product_id').execute();
  return rows.map(toProduct);
};

/** One product with its current price and available units; undefined if it was never listed. */
export const getProduct = async (db: Kysely<unknown>, productId: string): Promise<ProductView | undefined> =>
  (await getProductsIn(live(db), [productId]))[0];

/** The stock of one SKU; undefined if the SKU is not tracked. */
export const getAvailability = async (db: Kysely<unknown>, sku: string): Promise<AvailabilityView | undefined> =>
  (await getAvailabilityIn(live(db), [sku]))[0];

/** Batched (for the API's loaders): the products carrying these SKUs, by SKU; unknown SKUs are absent. */
export const getProductsBySku = async (db: Kysely<unknown>, skus: readonly string[]): Promise<ReadonlyMap<string, ProductView>> =>
  new Map((await getProductsBySkuIn(live(db), skus)).map((view) => [view.sku, view]));

/** Batched: the stock of these SKUs, by SKU; untracked SKUs are absent. */
export const getAvailabilities = async (db: Kysely<unknown>, skus: readonly string[]): Promise<ReadonlyMap<string, AvailabilityView>> =>
  new Map((await getAvailabilityIn(live(db), skus)).map((view) => [view.sku, view]));

export interface ProductFilter {
  readonly status?: ProductStatus;
  /** Case-insensitive substring of the name. */
  readonly nameContains?: string;
  /** Inclusive bounds, in minor units. */
  readonly minPrice?: number;
  readonly maxPrice?: number;
  /** ISO-4217 code, e.g. `EUR`. */
  readonly currency?: string;
  /** Only products with at least one unit available (true) or none (false). */
  readonly inStock?: boolean;
}

export interface ListProductsOptions extends PageRequest {
  readonly filter?: ProductFilter;
}

const productCursorSchema = z.tuple([z.string(), z.string()]);

const likePattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const checkPrice = (field: string, value: number | undefined): void => {
  if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
    throw new ValidationError(`filter.${field}`, 'must be a non-negative integer (minor units)');
  }
};

/** Products ordered by name then id, `first` at a time after the cursor, filtered. */
export const listProducts = async (db: Kysely<unknown>, options: ListProductsOptions = {}): Promise<Page<ProductView>> => {
  const size = pageSize(options.first);
  const filter = options.filter ?? {};
  checkPrice('minPrice', filter.minPrice);
  checkPrice('maxPrice', filter.maxPrice);
  let query = productColumns(live(db));
  if (filter.status !== undefined) query = query.where('p.status', '=', filter.status);
  if (filter.nameContains !== undefined && filter.nameContains !== '') {
    query = query.where('p.name', 'ilike', likePattern(filter.nameContains));
  }
  if (filter.currency !== undefined) query = query.where('p.currency', '=', filter.currency);
  if (filter.minPrice !== undefined) query = query.where('p.price', '>=', filter.minPrice);
  if (filter.maxPrice !== undefined) query = query.where('p.price', '<=', filter.maxPrice);
  if (filter.inStock === true) query = query.where(sql<boolean>`coalesce(a.available, 0) > 0`);
  if (filter.inStock === false) query = query.where(sql<boolean>`coalesce(a.available, 0) <= 0`);
  if (options.after !== undefined) {
    const [name, productId] = decodeCursor(options.after, productCursorSchema);
    query = query.where(sql<boolean>`(p.name, p.product_id) > (${name}, ${productId})`);
  }
  const rows = await query.orderBy('p.name').orderBy('p.product_id').limit(size + 1).execute();
  return toPage(rows, size, toProduct, (row) => [row.name, row.product_id]);
};
