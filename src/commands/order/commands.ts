/** Order commands and the schemas that validate them. Prices arrive in the command (minor units). */
import { z } from 'zod';
import {
  currencySchema,
  idSchema,
  moneySchema,
  reasonSchema,
  skuSchema,
  timestampSchema,
} from '../../events/index.js';
import { parseCommand } from '../decider.js';

export const MAX_ORDER_LINES = 50;
/** Per line; with MAX_MONEY per unit and MAX_ORDER_LINES lines the total stays a safe integer. */
export const MAX_LINE_QUANTITY = 10_000;

export const orderLineInputSchema = z
  .object({
    sku: skuSchema,
    quantity: z.number().int().positive().max(MAX_LINE_QUANTITY),
    unitPrice: moneySchema,
  })
  .readonly();

export const placeOrderSchema = z
  .object({
    type: z.literal('PlaceOrder'),
    data: z
      .object({
        orderId: idSchema,
        customerId: idSchema,
        lines: z
          .array(orderLineInputSchema)
          .min(1)
          .max(MAX_ORDER_LINES)
          .refine((lines) => new Set(lines.map((line) => line.sku)).size === lines.length, {
            message: 'a SKU may appear at most once per order',
          })
          .readonly(),
        currency: currencySchema,
        now: timestampSchema,
      })
      .readonly(),
  })
  .readonly();

export const confirmOrderSchema = z
  .object({
    type: z.literal('ConfirmOrder'),
    data: z.object({ orderId: idSchema, paymentId: idSchema, now: timestampSchema }).readonly(),
  })
  .readonly();

export const cancelOrderSchema = z
  .object({
    type: z.literal('CancelOrder'),
    data: z.object({ orderId: idSchema, reason: reasonSchema, now: timestampSchema }).readonly(),
  })
  .readonly();

export const orderCommandSchema = z.discriminatedUnion('type', [
  placeOrderSchema,
  confirmOrderSchema,
  cancelOrderSchema,
]);

export type PlaceOrder = z.infer<typeof placeOrderSchema>;
export type ConfirmOrder = z.infer<typeof confirmOrderSchema>;
export type CancelOrder = z.infer<typeof cancelOrderSchema>;
export type OrderCommand = PlaceOrder | ConfirmOrder | CancelOrder;

/** Throws a `ValidationError` (KEEL_ERR_VALIDATION) naming the offending field. */
export const parseOrderCommand = (input: unknown): OrderCommand => parseCommand(orderCommandSchema, input);
