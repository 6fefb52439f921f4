/** Payment facts, stream `payment-<paymentId>`. Amounts in integer minor units. */
import { z } from 'zod';
import type { Event, Recorded } from './event.js';
import {
  amountSchema,
  authorizationCodeSchema,
  currencySchema,
  idSchema,
  reasonSchema,
  timestampSchema,
} from './primitives.js';

export const paymentRequestedSchema = z
  .object({
    paymentId: idSchema,
    orderId: idSchema,
    amount: amountSchema,
    currency: currencySchema,
    requestedAt: timestampSchema,
  })
  .readonly();
export const paymentAuthorizedSchema = z
  .object({
    paymentId: idSchema,
    orderId: idSchema,
    amount: amountSchema,
    currency: currencySchema,
    authorizationCode: authorizationCodeSchema,
    authorizedAt: timestampSchema,
  })
  .readonly();
export const paymentFailedSchema = z
  .object({ paymentId: idSchema, orderId: idSchema, reason: reasonSchema, failedAt: timestampSchema })
  .readonly();
export const paymentRefundedSchema = z
  .object({
    paymentId: idSchema,
    orderId: idSchema,
    amount: amountSchema,
    currency: currencySchema,
    reason: reasonSchema,
    refundedAt: timestampSchema,
  })
  .readonly();

export type PaymentRequested = Event<'PaymentRequested', z.infer<typeof paymentRequestedSchema>>;
export type PaymentAuthorized = Event<'PaymentAuthorized', z.infer<typeof paymentAuthorizedSchema>>;
export type PaymentFailed = Event<'PaymentFailed', z.infer<typeof paymentFailedSchema>>;
export type PaymentRefunded = Event<'PaymentRefunded', z.infer<typeof paymentRefundedSchema>>;

export type PaymentEvent = PaymentRequested | PaymentAuthorized | PaymentFailed | PaymentRefunded;
export type RecordedPaymentEvent = Recorded<PaymentEvent>;

export const paymentEventSchemas = {
  PaymentRequested: { version: 1, schema: paymentRequestedSchema },
  PaymentAuthorized: { version: 1, schema: paymentAuthorizedSchema },
  PaymentFailed: { version: 1, schema: paymentFailedSchema },
  PaymentRefunded: { version: 1, schema: paymentRefundedSchema },
} as const;

export const paymentEventTypes = Object.keys(paymentEventSchemas) as readonly PaymentEvent['type'][];
