/**
 * The port to a payment provider (card processor). The write side calls it from the payment
 * process, never from a decider: its answer comes back as an AuthorizePayment or FailPayment command.
 */
export interface AuthorizationRequest {
  readonly paymentId: string;
  readonly orderId: string;
  /** Integer minor units of `currency`. */
  readonly amount: number;
  readonly currency: string;
  /** Same key, same answer: the provider charges at most once per key. */
  readonly idempotencyKey: string;
}

export type AuthorizationResult =
  | { readonly status: 'authorized'; readonly authorizationCode: string }
  | { readonly status: 'declined'; readonly reason: string };

export interface PaymentProvider {
  /**
   * `signal` aborts the call when the caller stops waiting (shutdown); the request may still have
   * reached the provider, so the caller asks again later with the same idempotency key.
   */
  authorize(request: AuthorizationRequest, signal?: AbortSignal): Promise<AuthorizationResult>;
}
