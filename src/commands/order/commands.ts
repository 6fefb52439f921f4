/**
 * Order commands and the schemas that validate them. Prices arrive in the command (minor units):
 * the write side reads them from the catalog's streams and passes them in as `catalog`.
 */
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

/**
 * A line as the customer sends it. `unitPrice` is the price the customer saw (optional): the order
 * is priced from the catalog, and a quoted price that differs is refused (KEEL_ERR_PRICE_CHANGED).
 */
export const orderLineInputSchema = z
  .object({
    sku: skuSchema,
    quantity: z.number().int().positive().max(MAX_LINE_QUANTITY),
    unitPrice: moneySchema.exactOptional(),
  })
  .readonly();

const placeOrderInputShape = {
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
  /** The currency the customer saw (optional); the catalog's currency decides. */
  currency: currencySchema.exactOptional(),
};

/** What a customer sends to place an order (the write side's input, before it is priced). */
export const placeOrderInputSchema = z.object(placeOrderInputShape).readonly();

/**
 * One SKU as the catalog has it when the order is decided, read by the write side from the
 * product's own stream (never from a read model, never from the client).
 */
export const catalogEntrySchema = z
  .object({ sku: skuSchema, productId: idSchema, listed: z.boolean(), price: moneySchema, currency: currencySchema })
  .readonly();

export const placeOrderSchema = z
  .object({
    type: z.literal('PlaceOrder'),
    data: z
      .object({
        ...placeOrderInputShape,
        /** An entry per line's SKU. */
        catalog: z.array(catalogEntrySchema).max(MAX_ORDER_LINES).readonly(),
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

export type PlaceOrderInput = z.infer<typeof placeOrderInputSchema>;
export type CatalogEntry = z.infer<typeof catalogEntrySchema>;
export type PlaceOrder = z.infer<typeof placeOrderSchema>;
export type ConfirmOrder = z.infer<typeof confirmOrderSchema>;
export type CancelOrder = z.infer<typeof cancelOrderSchema>;
export type OrderCommand = PlaceOrder | ConfirmOrder | CancelOrder;

/** Throws a `ValidationError` (KEEL_ERR_VALIDATION) naming the offending field. */
export const parseOrderCommand = (input: unknown): OrderCommand => parseCommand(orderCommandSchema, input);
