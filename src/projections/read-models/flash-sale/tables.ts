/** The flash-sale board: one row per SKU with its live counters and its last sale. */
import { sql } from 'kysely';
import type { ColumnType, Kysely, Transaction } from 'kysely';
import type { Int8, Timestamp } from '../support/sql.js';
import { qualified } from '../support/sql.js';

export interface BoardTable {
  sku: string;
  product_id: string | null;
  received: Int8;
  reserved: Int8;
  sold: Int8;
  units_left: ColumnType<string, never, never>;
  last_sale_at: Timestamp | null;
  last_sale_order_id: string | null;
  last_sale_quantity: number | null;
  updated_position: Int8;
}

export type FlashSaleTables = { board: BoardTable };
export type FlashSaleDb = Kysely<FlashSaleTables>;
export type FlashSaleTrx = Transaction<FlashSaleTables>;

export const FLASH_SALE_TABLES = ['board'] as const;

export const createFlashSaleTables = async (db: Kysely<unknown>, schema: string): Promise<void> => {
  await sql`CREATE TABLE ${qualified(schema, 'board')} (
    sku text PRIMARY KEY,
    product_id text,
    received bigint NOT NULL,
    reserved bigint NOT NULL,
    sold bigint NOT NULL,
    units_left bigint GENERATED ALWAYS AS (received - reserved - sold) STORED,
    last_sale_at timestamptz,
    last_sale_order_id text,
    last_sale_quantity integer,
    updated_position bigint NOT NULL
  )`.execute(db);
};
