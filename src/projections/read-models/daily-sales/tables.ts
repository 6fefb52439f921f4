/**
 * Daily sales: units and revenue per product, UTC day and currency. To price a sale it keeps what
 * it needs of other streams in tables of its own: the product of each SKU and the lines of open
 * orders (deleted when the order is cancelled; marked sold when their stock is committed).
 */
import { sql } from 'kysely';
import type { ColumnType, Kysely, Transaction } from 'kysely';
import type { Int8, Timestamp } from '../support/sql.js';
import { qualified } from '../support/sql.js';

export interface SkuProductsTable {
  sku: string;
  product_id: string;
}

export interface OrderLinesTable {
  order_id: string;
  sku: string;
  quantity: number;
  /** quantity × unit price, in minor units of `currency`. */
  amount: Int8;
  currency: string;
  /** Set once the line's stock is committed: the sale was counted. */
  sold_position: Int8 | null;
}

export interface DailySalesTable {
  product_id: string;
  /** A `date`; selected with to_char (see asDay). */
  day: ColumnType<string, string, string>;
  currency: string;
  units: Int8;
  revenue: Int8;
  /** Sales counted: one per committed order line. */
  orders: number;
  last_sale_at: Timestamp;
  updated_position: Int8;
}

export type DailySalesTables = {
  sku_products: SkuProductsTable;
  order_lines: OrderLinesTable;
  daily_sales: DailySalesTable;
};
export type DailySalesDb = Kysely<DailySalesTables>;
export type DailySalesTrx = Transaction<DailySalesTables>;

export const DAILY_SALES_TABLES = ['sku_products', 'order_lines', 'daily_sales'] as const;

export const createDailySalesTables = async (db: Kysely<unknown>, schema: string): Promise<void> => {
  await sql`CREATE TABLE ${qualified(schema, 'sku_products')} (
    sku text PRIMARY KEY,
    product_id text NOT NULL
  )`.execute(db);
  await sql`CREATE TABLE ${qualified(schema, 'order_lines')} (
    order_id text NOT NULL,
    sku text NOT NULL,
    quantity integer NOT NULL,
    amount bigint NOT NULL,
    currency text NOT NULL,
    sold_position bigint,
    PRIMARY KEY (order_id, sku)
  )`.execute(db);
  const daily = qualified(schema, 'daily_sales');
  await sql`CREATE TABLE ${daily} (
    product_id text NOT NULL,
    day date NOT NULL,
    currency text NOT NULL,
    units bigint NOT NULL,
    revenue bigint NOT NULL,
    orders integer NOT NULL,
    last_sale_at timestamptz NOT NULL,
    updated_position bigint NOT NULL,
    PRIMARY KEY (product_id, day, currency)
  )`.execute(db);
  await sql`CREATE INDEX daily_sales_by_day ON ${daily} (day, product_id)`.execute(db);
};
