/** Payment commands and the schemas that validate them. Amounts in integer minor units. */
import { z } from 'zod';
import {
  amountSchema,
  authorizationCodeSchema,
  currencySchema,
  idSchema,
  reasonSchema,
  timestampSchema,
} from '../../events/index.js';
import { parseCommand } from '../decider.js';

export const requestPaymentSchema = z
  .object({
    type: z.literal('RequestPayment'),
    data: z
      .object({
        paymentId: idSchema,
        orderId: idSchema,
        amount: amountSchema,
        currency: currencySchema,
        now: timestampSchema,
      })
      .readonly(),
  })
  .readonly();

export const authorizePaymentSchema = z
  .object({
    type: z.literal('AuthorizePayment'),
    data: z
      .object({ paymentId: idSchema, authorizationCode: authorizationCodeSchema, now: timestampSchema })
      .readonly(),
  })
  .readonly();

export const failPaymentSchema = z
  .object({
    type: z.literal('FailPayment'),
    data: z.object({ paymentId: idSchema, reason: reasonSchema, now: timestampSchema }).readonly(),
  })
  .readonly();

export const refundPaymentSchema = z
  .object({
    type: z.literal('RefundPayment'),
    data: z
      .object({ paymentId: idSchema, amount: amountSchema, reason: reasonSchema, now: timestampSchema })
      .readonly(),
  })
  .readonly();

export const paymentCommandSchema = z.discriminatedUnion('type', [
  requestPaymentSchema,
  authorizePaymentSchema,
  failPaymentSchema,
  refundPaymentSchema,
]);

export type RequestPayment = z.infer<typeof requestPaymentSchema>;
export type AuthorizePayment = z.infer<typeof authorizePaymentSchema>;
export type FailPayment = z.infer<typeof failPaymentSchema>;
export type RefundPayment = z.infer<typeof refundPaymentSchema>;
export type PaymentCommand = RequestPayment | AuthorizePayment | FailPayment | RefundPayment;

/** Throws a `ValidationError` (KEEL_ERR_VALIDATION) naming the offending field. */
export const parsePaymentCommand = (input: unknown): PaymentCommand => parseCommand(paymentCommandSchema, input);
