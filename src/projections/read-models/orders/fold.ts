/**
 * An order as the read model keeps it, and the pure fold of the events that concern it: the
 * order's own events, its payment's (which carry the order id) and the stock events of its lines.
 * An event at or below the order's position was applied already and changes nothing.
 */
import type { Positioned } from '../support/events.js';
import type { LineStockStatus, OrderStatus, PaymentStatus } from './tables.js';

export const ORDERS_EVENT_TYPES = [
  'OrderPlaced',
  'OrderConfirmed',
  'OrderCancelled',
  'PaymentRequested',
  'PaymentAuthorized',
  'PaymentFailed',
  'PaymentRefunded',
  'StockReserved',
  'StockReleased',
  'StockCommitted',
] as const;
export type OrdersEventType = (typeof ORDERS_EVENT_TYPES)[number];

export interface LineState {
  readonly lineNo: number;
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice: number;
  readonly stockStatus: LineStockStatus;
}

export interface PaymentState {
  readonly paymentId: string | null;
  readonly status: PaymentStatus;
  readonly amount: number | null;
  readonly refunded: number;
  readonly failureReason: string | null;
}

export interface OrderState {
  readonly orderId: string;
  readonly customerId: string;
  readonly status: OrderStatus;
  readonly currency: string;
  readonly total: number;
  readonly placedAt: string;
  readonly confirmedAt: string | null;
  readonly cancelledAt: string | null;
  readonly cancelReason: string | null;
  readonly payment: PaymentState;
  readonly lines: readonly LineState[];
  readonly placedPosition: bigint;
  readonly position: bigint;
}

export interface TimelineEntry {
  readonly orderId: string;
  readonly position: bigint;
  readonly eventType: OrdersEventType;
  readonly occurredAt: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

const iso = (time: string): string => new Date(time).toISOString();

const withLine = (order: OrderState, sku: string, stockStatus: LineStockStatus): OrderState => ({
  ...order,
  lines: order.lines.map((line) => (line.sku === sku ? { ...line, stockStatus } : line)),
});

const refundedStatus = (payment: PaymentState, refunded: number): PaymentStatus =>
  payment.amount !== null && refunded >= payment.amount ? 'refunded' : 'partially_refunded';

/** The orders a batch touches, as stored (absent if not placed yet). */
export type OrdersRows = ReadonlyMap<string, OrderState>;

export interface OrdersChanges {
  /** Changed orders (with all their lines), in the order they first changed. */
  readonly orders: readonly OrderState[];
  /** The timeline rows the batch adds, in event order. */
  readonly timeline: readonly TimelineEntry[];
}

/** Folds a batch onto the orders it concerns; events of an order never placed are ignored. */
export const foldOrders = (rows: OrdersRows, events: readonly Positioned<OrdersEventType>[]): OrdersChanges => {
  const orders = new Map(rows);
  const changed = new Set<string>();
  const timeline: TimelineEntry[] = [];
  for (const e of events) {
    const { orderId } = e.event.data;
    const before = orders.get(orderId);
    const { order, entry } = foldOrder(before, e);
    if (order === undefined || order === before) continue;
    orders.set(orderId, order);
    changed.add(orderId);
    if (entry !== undefined) timeline.push(entry);
  }
  return { orders: [...changed].flatMap((id) => orders.get(id) ?? []), timeline };
};

/** The order after `e` (undefined while nothing was placed) and the timeline row `e` adds, if any. */
export const foldOrder = (
  order: OrderState | undefined,
  e: Positioned<OrdersEventType>,
): { readonly order: OrderState | undefined; readonly entry?: TimelineEntry } => {
  const { event, position } = e;
  if (order !== undefined && position <= order.position) return { order };
  if (order === undefined && event.type !== 'OrderPlaced') return { order };
  const next = evolve(order, e);
  if (next === undefined || next === order) return { order };
  const { at, detail } = timelineOf(e);
  const entry: TimelineEntry = { orderId: next.orderId, position, eventType: event.type, occurredAt: iso(at), detail };
  return { order: { ...next, position }, entry };
};

const evolve = (order: OrderState | undefined, { event, position }: Positioned<OrdersEventType>): OrderState | undefined => {
  if (event.type === 'OrderPlaced') {
    if (order !== undefined) return order;
    const { orderId, customerId, currency, total, placedAt, lines } = event.data;
    return {
      orderId,
      customerId,
      status: 'pending',
      currency,
      total,
      placedAt: iso(placedAt),
      confirmedAt: null,
      cancelledAt: null,
      cancelReason: null,
      payment: { paymentId: null, status: 'none', amount: null, refunded: 0, failureReason: null },
      lines: lines.map((line, lineNo) => ({ lineNo, ...line, stockStatus: 'pending' })),
      placedPosition: position,
      position,
    };
  }
  if (order === undefined) return undefined;
  switch (event.type) {
    case 'OrderConfirmed':
      return { ...order, status: 'confirmed', confirmedAt: iso(event.data.confirmedAt) };
    case 'OrderCancelled':
      return { ...order, status: 'cancelled', cancelledAt: iso(event.data.cancelledAt), cancelReason: event.data.reason };
    case 'PaymentRequested': {
      const { paymentId, amount } = event.data;
      return { ...order, payment: { ...order.payment, paymentId, amount, status: 'requested' } };
    }
    case 'PaymentAuthorized':
      return { ...order, payment: { ...order.payment, status: 'authorized', amount: event.data.amount } };
    case 'PaymentFailed':
      return { ...order, payment: { ...order.payment, status: 'failed', failureReason: event.data.reason } };
    case 'PaymentRefunded': {
      const refunded = order.payment.refunded + event.data.amount;
      return { ...order, payment: { ...order.payment, refunded, status: refundedStatus(order.payment, refunded) } };
    }
    case 'StockReserved':
      return withLine(order, event.data.sku, 'reserved');
    case 'StockReleased':
      return withLine(order, event.data.sku, 'released');
    case 'StockCommitted':
      return withLine(order, event.data.sku, 'committed');
  }
};

/** When `e` happened, and what its timeline row shows besides type and time (ids the row already has are left out). */
const timelineOf = ({ event }: Positioned<OrdersEventType>): { readonly at: string; readonly detail: Readonly<Record<string, unknown>> } => {
  switch (event.type) {
    case 'OrderPlaced':
      return { at: event.data.placedAt, detail: { total: event.data.total, currency: event.data.currency, lines: event.data.lines.length } };
    case 'OrderConfirmed':
      return { at: event.data.confirmedAt, detail: { paymentId: event.data.paymentId } };
    case 'OrderCancelled':
      return { at: event.data.cancelledAt, detail: { reason: event.data.reason } };
    case 'PaymentRequested':
      return { at: event.data.requestedAt, detail: { paymentId: event.data.paymentId, amount: event.data.amount, currency: event.data.currency } };
    case 'PaymentAuthorized':
      return { at: event.data.authorizedAt, detail: { paymentId: event.data.paymentId, amount: event.data.amount, currency: event.data.currency } };
    case 'PaymentFailed':
      return { at: event.data.failedAt, detail: { paymentId: event.data.paymentId, reason: event.data.reason } };
    case 'PaymentRefunded': {
      const { paymentId, amount, currency, reason } = event.data;
      return { at: event.data.refundedAt, detail: { paymentId, amount, currency, reason } };
    }
    case 'StockReserved':
      return { at: event.data.reservedAt, detail: { sku: event.data.sku, quantity: event.data.quantity } };
    case 'StockCommitted':
      return { at: event.data.committedAt, detail: { sku: event.data.sku, quantity: event.data.quantity } };
    case 'StockReleased':
      return { at: event.data.releasedAt, detail: { sku: event.data.sku, quantity: event.data.quantity, reason: event.data.reason } };
  }
};
