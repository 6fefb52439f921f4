/** The orders read model's rows in and out of the batch handler. */
import { asText, chunks } from '../support/sql.js';
import type { LineState, OrderState, TimelineEntry } from './fold.js';
import type { OrdersDb } from './tables.js';

export const loadOrders = async (db: OrdersDb, orderIds: readonly string[]): Promise<Map<string, OrderState>> => {
  if (orderIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('orders')
    .select([
      'order_id',
      'customer_id',
      'status',
      'currency',
      'placed_at',
      'confirmed_at',
      'cancelled_at',
      'cancel_reason',
      'payment_id',
      'payment_status',
      'payment_failure_reason',
    ])
    .select([
      asText('total').as('total'),
      asText('payment_amount').as('payment_amount'),
      asText('refunded_amount').as('refunded_amount'),
      asText('placed_position').as('placed_position'),
      asText('updated_position').as('updated_position'),
    ])
    .where('order_id', 'in', orderIds)
    .execute();
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

export const saveOrders = async (db: OrdersDb, orders: readonly OrderState[]): Promise<void> => {
  for (const chunk of chunks(orders)) {
    await db
      .insertInto('orders')
      .values(
        chunk.map((o) => ({
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
        })),
      )
      .onConflict((oc) =>
        oc.column('order_id').doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          confirmed_at: eb.ref('excluded.confirmed_at'),
          cancelled_at: eb.ref('excluded.cancelled_at'),
          cancel_reason: eb.ref('excluded.cancel_reason'),
          payment_id: eb.ref('excluded.payment_id'),
          payment_status: eb.ref('excluded.payment_status'),
          payment_amount: eb.ref('excluded.payment_amount'),
          refunded_amount: eb.ref('excluded.refunded_amount'),
          payment_failure_reason: eb.ref('excluded.payment_failure_reason'),
          updated_position: eb.ref('excluded.updated_position'),
        })),
      )
      .execute();
  }
  const lines = orders.flatMap((o) => o.lines.map((line) => ({ orderId: o.orderId, ...line })));
  for (const chunk of chunks(lines)) {
    await db
      .insertInto('order_lines')
      .values(
        chunk.map((l) => ({
          order_id: l.orderId,
          line_no: l.lineNo,
          sku: l.sku,
          quantity: l.quantity,
          unit_price: l.unitPrice,
          stock_status: l.stockStatus,
        })),
      )
      .onConflict((oc) => oc.columns(['order_id', 'line_no']).doUpdateSet((eb) => ({ stock_status: eb.ref('excluded.stock_status') })))
      .execute();
  }
};

export const saveTimeline = async (db: OrdersDb, entries: readonly TimelineEntry[]): Promise<void> => {
  for (const chunk of chunks(entries)) {
    await db
      .insertInto('order_timeline')
      .values(
        chunk.map((t) => ({
          order_id: t.orderId,
          position: t.position,
          event_type: t.eventType,
          occurred_at: t.occurredAt,
          detail: JSON.stringify(t.detail),
        })),
      )
      .onConflict((oc) => oc.columns(['order_id', 'position']).doNothing())
      .execute();
  }
};
