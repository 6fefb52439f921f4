/** What the orders read model answers. Positions are bigints; money is in minor units. */
import type { LineStockStatus, OrderStatus, PaymentStatus } from './tables.js';

export interface OrderSummary {
  readonly orderId: string;
  readonly customerId: string;
  readonly status: OrderStatus;
  readonly paymentStatus: PaymentStatus;
  /** Minor units of `currency`. */
  readonly total: number;
  readonly currency: string;
  readonly lineCount: number;
  readonly placedAt: string;
  readonly updatedPosition: bigint;
}

export interface OrderLineView {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice: number;
  /** quantity × unitPrice. */
  readonly lineTotal: number;
  readonly stockStatus: LineStockStatus;
}

export interface TimelineRow {
  readonly eventType: string;
  readonly occurredAt: string;
  readonly position: bigint;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface OrderDetail extends OrderSummary {
  readonly confirmedAt: string | null;
  readonly cancelledAt: string | null;
  readonly cancelReason: string | null;
  readonly payment: {
    readonly paymentId: string | null;
    readonly status: PaymentStatus;
    readonly amount: number | null;
    readonly refunded: number;
    readonly failureReason: string | null;
  };
  readonly lines: readonly OrderLineView[];
  /** Every event that concerned the order, in position order. */
  readonly timeline: readonly TimelineRow[];
}
