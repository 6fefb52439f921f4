/**
 * The orders read model's tables: one row per order (status, totals, payment), its lines (with the
 * stock state of each) and its timeline (one row per event that concerned the order).
 */
import { sql } from 'kysely';
import type { ColumnType, Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { Int8, Timestamp } from '../support/sql.js';
import { qualified } from '../support/sql.js';

export const ORDER_STATUSES = ['pending', 'confirmed', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export const PAYMENT_STATUSES = ['none', 'requested', 'authorized', 'failed', 'partially_refunded', 'refunded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
export const LINE_STOCK_STATUSES = ['pending', 'reserved', 'committed', 'released'] as const;
export type LineStockStatus = (typeof LINE_STOCK_STATUSES)[number];

export interface OrdersTable {
  order_id: string;
  customer_id: string;
  status: OrderStatus;
  currency: string;
  total: Int8;
  line_count: number;
  placed_at: Timestamp;
  confirmed_at: Timestamp | null;
  cancelled_at: Timestamp | null;
  cancel_reason: string | null;
  payment_id: string | null;
  payment_status: PaymentStatus;
  payment_amount: Int8 | null;
  refunded_amount: Int8;
  payment_failure_reason: string | null;
  placed_position: Int8;
  updated_position: Int8;
}

export interface OrderLinesTable {
  order_id: string;
  line_no: number;
  sku: string;
  quantity: number;
  unit_price: number;
  stock_status: LineStockStatus;
}

export interface OrderTimelineTable {
  order_id: string;
  position: Int8;
  event_type: string;
  occurred_at: Timestamp;
  /** jsonb, written as JSON text. */
  detail: ColumnType<Readonly<Record<string, unknown>>, string, string>;
}

export type OrdersTables = {
  orders: OrdersTable;
  order_lines: OrderLinesTable;
  order_timeline: OrderTimelineTable;
};

export type OrderRow = Selectable<OrdersTable>;
export type NewOrderRow = Insertable<OrdersTable>;
export type OrdersDb = Kysely<OrdersTables>;
export type OrdersTrx = Transaction<OrdersTables>;

export const ORDERS_TABLES = ['orders', 'order_lines', 'order_timeline'] as const;

const list = (values: readonly string[]) => sql.join(values.map((v) => sql.lit(v)));

export const createOrdersTables = async (db: Kysely<unknown>, schema: string): Promise<void> => {
  const orders = qualified(schema, 'orders');
  await sql`CREATE TABLE ${orders} (
    order_id text PRIMARY KEY,
    customer_id text NOT NULL,
    status text NOT NULL CHECK (status IN (${list(ORDER_STATUSES)})),
    currency text NOT NULL,
    total bigint NOT NULL,
    line_count integer NOT NULL,
    placed_at timestamptz NOT NULL,
    confirmed_at timestamptz,
    cancelled_at timestamptz,
    cancel_reason text,
    payment_id text,
    payment_status text NOT NULL CHECK (payment_status IN (${list(PAYMENT_STATUSES)})),
    payment_amount bigint,
    refunded_amount bigint NOT NULL,
    payment_failure_reason text,
    placed_position bigint NOT NULL,
    updated_position bigint NOT NULL
  )`.execute(db);
  await sql`CREATE INDEX orders_by_customer ON ${orders} (customer_id, placed_position DESC)`.execute(db);
  await sql`CREATE TABLE ${qualified(schema, 'order_lines')} (
    order_id text NOT NULL,
    line_no integer NOT NULL,
    sku text NOT NULL,
    quantity integer NOT NULL,
    unit_price integer NOT NULL,
    stock_status text NOT NULL CHECK (stock_status IN (${list(LINE_STOCK_STATUSES)})),
    PRIMARY KEY (order_id, line_no)
  )`.execute(db);
  await sql`CREATE TABLE ${qualified(schema, 'order_timeline')} (
    order_id text NOT NULL,
    position bigint NOT NULL,
    event_type text NOT NULL,
    occurred_at timestamptz NOT NULL,
    detail jsonb NOT NULL,
    PRIMARY KEY (order_id, position)
  )`.execute(db);
};
