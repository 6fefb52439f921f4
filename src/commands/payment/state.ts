/**
 * One payment, keyed by `status`: requested → authorized (→ refunded once the whole amount has
 * been refunded) or requested → failed. Amounts in integer minor units of `currency`.
 */
export interface RequestedPayment {
  readonly paymentId: string;
  readonly orderId: string;
  readonly amount: number;
  readonly currency: string;
  readonly requestedAt: string;
}

export interface AuthorizedPayment extends RequestedPayment {
  readonly authorizationCode: string;
  readonly authorizedAt: string;
  /** Sum of the refunds so far; never more than `amount`. */
  readonly refunded: number;
}

export type PaymentState =
  | { readonly status: 'none' }
  | ({ readonly status: 'requested' } & RequestedPayment)
  | ({ readonly status: 'authorized' } & AuthorizedPayment)
  | ({ readonly status: 'refunded' } & AuthorizedPayment)
  | ({ readonly status: 'failed'; readonly reason: string; readonly failedAt: string } & RequestedPayment);
