/**
 * The orders read model's queries: a customer's orders (newest first, cursor pagination) and one
 * order with its lines and timeline. Public functions read the live schema.
 */
import type { Kysely } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { z } from 'zod';
import { liveSchemaOf } from '../../projection.js';
import { decodeCursor, pageSize, toPage } from '../support/pagination.js';
import type { Page, PageRequest } from '../support/pagination.js';
import { asText, toIso, toIsoOrNull } from '../support/sql.js';
import type { OrderStatus, OrdersDb, OrdersTables } from './tables.js';
import type { OrderDetail, OrderLineView, OrderSummary, TimelineRow } from './views.js';

export type { OrderDetail, OrderLineView, OrderSummary, TimelineRow } from './views.js';

export const ORDERS = 'orders';

const live = (db: Kysely<unknown>): OrdersDb => db.withSchema(liveSchemaOf(ORDERS)).withTables<OrdersTables>();

/** An order row's columns, bigints as text (what the queries and the projection's store load). */
export const orderColumns = (db: OrdersDb) =>
  db
    .selectFrom('orders')
    .select([
      'order_id',
      'customer_id',
      'status',
      'payment_status',
      'currency',
      'line_count',
      'placed_at',
      'confirmed_at',
      'cancelled_at',
      'cancel_reason',
      'payment_id',
      'payment_failure_reason',
    ])
    .select([
      asText('total').as('total'),
      asText('payment_amount').as('payment_amount'),
      asText('refunded_amount').as('refunded_amount'),
      asText('placed_position').as('placed_position'),
      asText('updated_position').as('updated_position'),
    ]);

type OrderSelect = Awaited<ReturnType<ReturnType<typeof orderColumns>['execute']>>[number];

const toSummary = (row: OrderSelect): OrderSummary => ({
  orderId: row.order_id,
  customerId: row.customer_id,
  status: row.status,
  paymentStatus: row.payment_status,
  total: Number(row.total),
  currency: row.currency,
  lineCount: row.line_count,
  placedAt: toIso(row.placed_at),
  updatedPosition: BigInt(row.updated_position),
});

export const getOrderSummariesIn = async (db: OrdersDb, orderIds: readonly string[]): Promise<OrderSummary[]> => {
  if (orderIds.length === 0) return [];
  const rows = await orderColumns(db).where('order_id', 'in', orderIds).orderBy('order_id').execute();
  return rows.map(toSummary);
};

const customerCursorSchema = z.tuple([z.string().regex(/^-?\d+$/)]);

export interface ListOrdersOptions extends PageRequest {
  /** Only orders in this status. */
  readonly status?: OrderStatus;
}

/** A customer's orders, newest first (by the position they were placed at), `first` at a time. */
export const listOrdersOfCustomer = async (
  db: Kysely<unknown>,
  customerId: string,
  options: ListOrdersOptions = {},
): Promise<Page<OrderSummary>> => {
  const size = pageSize(options.first);
  let query = orderColumns(live(db)).where('customer_id', '=', customerId);
  if (options.status !== undefined) query = query.where('status', '=', options.status);
  if (options.after !== undefined) {
    const [placedPosition] = decodeCursor(options.after, customerCursorSchema);
    query = query.where('placed_position', '<', placedPosition);
  }
  // Qualified: a bare name would order by the selected `::text` alias ('900' after '1000').
  const rows = await query.orderBy('orders.placed_position', 'desc').limit(size + 1).execute();
  return toPage(rows, size, toSummary, (row) => [row.placed_position]);
};

const groupBy = <Row extends { readonly order_id: string }, T>(rows: readonly Row[], toItem: (row: Row) => T): Map<string, T[]> => {
  const out = new Map<string, T[]>();
  for (const row of rows) {
    const list = out.get(row.order_id) ?? [];
    list.push(toItem(row));
    out.set(row.order_id, list);
  }
  return out;
};

const linesIn = async (db: OrdersDb, orderIds: readonly string[]): Promise<Map<string, OrderLineView[]>> => {
  if (orderIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('order_lines')
    .select(['order_id', 'sku', 'quantity', 'unit_price', 'stock_status'])
    .where('order_id', 'in', orderIds)
    .orderBy('order_id')
    .orderBy('line_no')
    .execute();
  return groupBy(rows, (line) => ({
    sku: line.sku,
    quantity: line.quantity,
    unitPrice: line.unit_price,
    lineTotal: line.quantity * line.unit_price,
    stockStatus: line.stock_status,
  }));
};

const timelinesIn = async (db: OrdersDb, orderIds: readonly string[]): Promise<Map<string, TimelineRow[]>> => {
  if (orderIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('order_timeline')
    .select(['order_id', 'event_type', 'occurred_at', 'detail', asText('position').as('position')])
    .where('order_id', 'in', orderIds)
    .orderBy('order_id')
    .orderBy('order_timeline.position')
    .execute();
  return groupBy(rows, (entry) => ({
    eventType: entry.event_type,
    occurredAt: toIso(entry.occurred_at),
    position: BigInt(entry.position),
    detail: entry.detail,
  }));
};

/** Batched (for the API's loaders): the lines of these orders, by order id; unknown orders are absent. */
export const getOrderLines = async (
  db: Kysely<unknown>,
  orderIds: readonly string[],
): Promise<ReadonlyMap<string, readonly OrderLineView[]>> => linesIn(live(db), orderIds);

/** Batched: the timelines of these orders (position order), by order id; unknown orders are absent. */
export const getOrderTimelines = async (
  db: Kysely<unknown>,
  orderIds: readonly string[],
): Promise<ReadonlyMap<string, readonly TimelineRow[]>> => timelinesIn(live(db), orderIds);

/** One order with its lines and timeline; undefined if no such order was placed. */
/**
 * One order with its lines and timeline, in one round trip: the lines and the timeline come back
 * as JSON arrays of subqueries (an order read is what a buyer polls, and what each subscription
 * push reads again; three round trips made it the API's most frequent database wait).
 */
export const getOrder = async (db: Kysely<unknown>, orderId: string): Promise<OrderDetail | undefined> => {
  const row = await orderColumns(live(db))
    .select((eb) => [
      jsonArrayFrom(
        eb
          .selectFrom('order_lines')
          .select(['sku', 'quantity', 'unit_price', 'stock_status'])
          .whereRef('order_lines.order_id', '=', 'orders.order_id')
          .orderBy('order_lines.line_no'),
      ).as('lines'),
      jsonArrayFrom(
        eb
          .selectFrom('order_timeline')
          .select(['event_type', 'occurred_at', 'detail', asText('order_timeline.position').as('position')])
          .whereRef('order_timeline.order_id', '=', 'orders.order_id')
          .orderBy('order_timeline.position'),
      ).as('timeline'),
    ])
    .where('order_id', '=', orderId)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    ...toSummary(row),
    confirmedAt: toIsoOrNull(row.confirmed_at),
    cancelledAt: toIsoOrNull(row.cancelled_at),
    cancelReason: row.cancel_reason,
    payment: {
      paymentId: row.payment_id,
      status: row.payment_status,
      amount: row.payment_amount === null ? null : Number(row.payment_amount),
      refunded: Number(row.refunded_amount),
      failureReason: row.payment_failure_reason,
    },
    lines: row.lines.map((line) => ({ sku: line.sku, quantity: line.quantity, unitPrice: line.unit_price, lineTotal: line.quantity * line.unit_price, stockStatus: line.stock_status })),
    // JSON carries the timestamp as text (with an offset): toIso normalises it as it does a Date.
    timeline: row.timeline.map((entry) => ({ eventType: entry.event_type, occurredAt: toIso(entry.occurred_at), position: BigInt(entry.position), detail: entry.detail })),
  };
};
