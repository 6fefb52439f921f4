/** Inventory commands, one stream per SKU, and the schemas that validate them. */
import { z } from 'zod';
import { idSchema, quantitySchema, reasonSchema, skuSchema, timestampSchema } from '../../events/index.js';
import { parseCommand } from '../decider.js';

export const trackSkuSchema = z
  .object({
    type: z.literal('TrackSku'),
    data: z.object({ sku: skuSchema, productId: idSchema }).readonly(),
  })
  .readonly();

export const receiveStockSchema = z
  .object({
    type: z.literal('ReceiveStock'),
    data: z.object({ sku: skuSchema, quantity: quantitySchema }).readonly(),
  })
  .readonly();

export const reserveStockSchema = z
  .object({
    type: z.literal('ReserveStock'),
    data: z
      .object({
        sku: skuSchema,
        orderId: idSchema,
        quantity: quantitySchema,
        expiresAt: timestampSchema,
        now: timestampSchema,
      })
      .refine((d) => Date.parse(d.expiresAt) > Date.parse(d.now), {
        message: 'must be later than now',
        path: ['expiresAt'],
      })
      .readonly(),
  })
  .readonly();

export const releaseStockSchema = z
  .object({
    type: z.literal('ReleaseStock'),
    data: z.object({ sku: skuSchema, orderId: idSchema, reason: reasonSchema, now: timestampSchema }).readonly(),
  })
  .readonly();

export const commitStockSchema = z
  .object({
    type: z.literal('CommitStock'),
    data: z.object({ sku: skuSchema, orderId: idSchema, now: timestampSchema }).readonly(),
  })
  .readonly();

export const expireReservationsSchema = z
  .object({
    type: z.literal('ExpireReservations'),
    data: z.object({ sku: skuSchema, now: timestampSchema }).readonly(),
  })
  .readonly();

export const inventoryCommandSchema = z.discriminatedUnion('type', [
  trackSkuSchema,
  receiveStockSchema,
  reserveStockSchema,
  releaseStockSchema,
  commitStockSchema,
  expireReservationsSchema,
]);

export type TrackSku = z.infer<typeof trackSkuSchema>;
export type ReceiveStock = z.infer<typeof receiveStockSchema>;
export type ReserveStock = z.infer<typeof reserveStockSchema>;
export type ReleaseStock = z.infer<typeof releaseStockSchema>;
export type CommitStock = z.infer<typeof commitStockSchema>;
export type ExpireReservations = z.infer<typeof expireReservationsSchema>;
export type InventoryCommand =
  | TrackSku
  | ReceiveStock
  | ReserveStock
  | ReleaseStock
  | CommitStock
  | ExpireReservations;

/** Throws a `ValidationError` (KEEL_ERR_VALIDATION) naming the offending field. */
export const parseInventoryCommand = (input: unknown): InventoryCommand =>
  parseCommand(inventoryCommandSchema, input);
