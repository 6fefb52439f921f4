/**
 * Keel's own payment-provider protocol over HTTP (docs/domain.md, "Payments"), spoken by
 * `HttpPaymentProvider` and by the fake provider server:
 *
 *   POST <base>/authorizations   Idempotency-Key: <key>   { paymentId, orderId, amount, currency }
 *   200 { status: 'authorized', authorizationCode } | { status: 'declined', reason }
 *   409 the key was used before for a different request (a bug of the caller)
 *   anything else (other statuses, no answer in time, a malformed body): the provider is unavailable
 *
 * The same key always gets the same answer, and the provider charges at most once per key.
 */
import { z } from 'zod';
import { amountSchema, authorizationCodeSchema, currencySchema, idSchema, reasonSchema } from '../../events/index.js';

export const AUTHORIZATIONS_PATH = '/authorizations';
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

export const idempotencyKeySchema = z.string().min(1).max(255);

export const authorizationBodySchema = z.object({
  paymentId: idSchema,
  orderId: idSchema,
  amount: amountSchema,
  currency: currencySchema,
});

/** The 200 answer. Its fields must also pass the AuthorizePayment / FailPayment commands' schemas. */
export const authorizationAnswerSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('authorized'), authorizationCode: authorizationCodeSchema }),
  z.object({ status: z.literal('declined'), reason: reasonSchema }),
]);

export type AuthorizationBody = z.infer<typeof authorizationBodySchema>;
export type AuthorizationAnswer = z.infer<typeof authorizationAnswerSchema>;
