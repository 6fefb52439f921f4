/**
 * The orders read model's rows in and out of a batch: load the orders the batch concerns with their
 * lines (one query per table), save the changed orders, their lines and the new timeline rows (one
 * multi-row upsert per table; a timeline row already there is left alone).
 */
import type { Insertable, Kysely } from 'kysely';
import { distinct } from '../support/events.js';
import type { Positioned } from '../support/events.js';
import { upsertRows } from '../support/upsert.js';
import { orderColumns } from './queries.js';
import type { LineState, OrdersChanges, OrdersEventType, OrdersRows, OrderState, TimelineEntry } from './fold.js';
import type { OrderLinesTable, OrdersDb, OrdersTable, OrdersTables, OrderTimelineTable } from './tables.js';

/** The orders the batch's events concern, with their lines, as stored (absent if not placed yet). */
export const loadOrders = async (
  trx: Kysely<unknown>,
  schema: string,
  events: readonly Positioned<OrdersEventType>[],
): Promise<OrdersRows> => {
  const db: OrdersDb = trx.withSchema(schema).withTables<OrdersTables>();
  const orderIds = distinct(events.map((e) => e.event.data.orderId));
  if (orderIds.length === 0) return new Map();
  const rows = await orderColumns(db).where('order_id', 'in', orderIds).execute();
  const lines = await db
    .selectFrom('order_lines')
    .select(['order_id', 'line_no', 'sku', 'quantity', 'unit_price', 'stock_status'])
    .where('order_id', 'in', orderIds)
    .orderBy('order_id')
    .orderBy('line_no')
    .execute();
  const linesOf = new Map<string, LineState[]>();
  for (const line of lines) {
    const list = linesOf.get(line.order_id) ?? [];
    list.push({ lineNo: line.line_no, sku: line.sku, quantity: line.quantity, unitPrice: line.unit_price, stockStatus: line.stock_status });
    linesOf.set(line.order_id, list);
  }
  const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());
  return new Map(
    rows.map((r) => [
      r.order_id,
      {
        orderId: r.order_id,
        customerId: r.customer_id,
        status: r.status,
        currency: r.currency,
        total: Number(r.total),
        placedAt: new Date(r.placed_at).toISOString(),
        confirmedAt: iso(r.confirmed_at),
        cancelledAt: iso(r.cancelled_at),
        cancelReason: r.cancel_reason,
        payment: {
          paymentId: r.payment_id,
          status: r.payment_status,
          amount: r.payment_amount === null ? null : Number(r.payment_amount),
          refunded: Number(r.refunded_amount),
          failureReason: r.payment_failure_reason,
        },
        lines: linesOf.get(r.order_id) ?? [],
        placedPosition: BigInt(r.placed_position),
        position: BigInt(r.updated_position),
      },
    ]),
  );
};

const orderRow = (o: OrderState): Insertable<OrdersTable> => ({
  order_id: o.orderId,
  customer_id: o.customerId,
  status: o.status,
  currency: o.currency,
  total: o.total,
  line_count: o.lines.length,
  placed_at: o.placedAt,
  confirmed_at: o.confirmedAt,
  cancelled_at: o.cancelledAt,
  cancel_reason: o.cancelReason,
  payment_id: o.payment.paymentId,
  payment_status: o.payment.status,
  payment_amount: o.payment.amount,
  refunded_amount: o.payment.refunded,
  payment_failure_reason: o.payment.failureReason,
  placed_position: o.placedPosition,
  updated_position: o.position,
});

const lineRow = (orderId: string, l: LineState): Insertable<OrderLinesTable> => ({
  order_id: orderId,
  line_no: l.lineNo,
  sku: l.sku,
  quantity: l.quantity,
  unit_price: l.unitPrice,
  stock_status: l.stockStatus,
});

const timelineRow = (t: TimelineEntry): Insertable<OrderTimelineTable> => ({
  order_id: t.orderId,
  position: t.position,
  event_type: t.eventType,
  occurred_at: t.occurredAt,
  detail: JSON.stringify(t.detail),
});

export const saveOrders = async (db: Kysely<unknown>, schema: string, changes: OrdersChanges): Promise<void> => {
  await upsertRows(db, schema, 'orders', changes.orders.map(orderRow), {
    key: ['order_id'],
    columns: [
      'status',
      'confirmed_at',
      'cancelled_at',
      'cancel_reason',
      'payment_id',
      'payment_status',
      'payment_amount',
      'refunded_amount',
      'payment_failure_reason',
      'updated_position',
    ],
  });
  const lines = changes.orders.flatMap((o) => o.lines.map((line) => lineRow(o.orderId, line)));
  await upsertRows(db, schema, 'order_lines', lines, { key: ['order_id', 'line_no'], columns: ['stock_status'] });
  await upsertRows(db, schema, 'order_timeline', changes.timeline.map(timelineRow), { key: ['order_id', 'position'] });
};
