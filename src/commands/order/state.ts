/** An order as the customer sees it, keyed by `status` ('none' before it is placed). */
import type { OrderLine } from '../../events/index.js';

export interface PlacedOrder {
  readonly orderId: string;
  readonly customerId: string;
  readonly lines: readonly OrderLine[];
  readonly currency: string;
  /** Integer minor units of `currency`. */
  readonly total: number;
  readonly placedAt: string;
}

export type OrderState =
  | { readonly status: 'none' }
  | ({ readonly status: 'pending' } & PlacedOrder)
  | ({ readonly status: 'confirmed'; readonly paymentId: string; readonly confirmedAt: string } & PlacedOrder)
  | ({ readonly status: 'cancelled'; readonly reason: string; readonly cancelledAt: string } & PlacedOrder);
