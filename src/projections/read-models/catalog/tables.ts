/**
 * The catalog's tables: one row per product (its current listing) and one per SKU (its stock).
 * `available` is a stored generated column, so the "in stock" filter is an indexable comparison.
 */
import { sql } from 'kysely';
import type { ColumnType, Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { Int8, Timestamp } from '../support/sql.js';
import { qualified } from '../support/sql.js';

export type ProductStatus = 'listed' | 'delisted';

export interface ProductsTable {
  product_id: string;
  sku: string;
  name: string;
  /** Minor units of `currency` (at most MAX_MONEY, so an int4). */
  price: number;
  currency: string;
  status: ProductStatus;
  delist_reason: string | null;
  listed_at: Timestamp;
  updated_position: Int8;
}

export interface AvailabilityTable {
  sku: string;
  product_id: string | null;
  received: Int8;
  reserved: Int8;
  sold: Int8;
  available: ColumnType<string, never, never>;
  updated_position: Int8;
}

export type CatalogTables = {
  products: ProductsTable;
  availability: AvailabilityTable;
};

export type ProductRow = Selectable<ProductsTable>;
export type NewProductRow = Insertable<ProductsTable>;
export type NewAvailabilityRow = Insertable<AvailabilityTable>;

export type CatalogDb = Kysely<CatalogTables>;
export type CatalogTrx = Transaction<CatalogTables>;

export const CATALOG_TABLES = ['products', 'availability'] as const;

export const createCatalogTables = async (db: Kysely<unknown>, schema: string): Promise<void> => {
  const products = qualified(schema, 'products');
  const availability = qualified(schema, 'availability');
  await sql`CREATE TABLE ${products} (
    product_id text PRIMARY KEY,
    sku text NOT NULL,
    name text NOT NULL,
    price integer NOT NULL CHECK (price >= 0),
    currency text NOT NULL,
    status text NOT NULL CHECK (status IN ('listed', 'delisted')),
    delist_reason text,
    listed_at timestamptz NOT NULL,
    updated_position bigint NOT NULL
  )`.execute(db);
  await sql`CREATE INDEX products_by_name ON ${products} (name, product_id)`.execute(db);
  await sql`CREATE INDEX products_by_sku ON ${products} (sku)`.execute(db);
  await sql`CREATE TABLE ${availability} (
    sku text PRIMARY KEY,
    product_id text,
    received bigint NOT NULL,
    reserved bigint NOT NULL,
    sold bigint NOT NULL,
    available bigint GENERATED ALWAYS AS (received - reserved - sold) STORED,
    updated_position bigint NOT NULL
  )`.execute(db);
};
