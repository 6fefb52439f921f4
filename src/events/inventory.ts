/** Inventory facts, one stream per SKU: `inventory-<sku>`. */
import { z } from 'zod';
import type { Event, Recorded } from './event.js';
import { idSchema, quantitySchema, reasonSchema, skuSchema, timestampSchema } from './primitives.js';

export const skuTrackedSchema = z.object({ sku: skuSchema, productId: idSchema }).readonly();
export const stockReceivedSchema = z.object({ sku: skuSchema, quantity: quantitySchema }).readonly();
export const stockReservedSchema = z
  .object({
    sku: skuSchema,
    orderId: idSchema,
    quantity: quantitySchema,
    expiresAt: timestampSchema,
    reservedAt: timestampSchema,
  })
  .readonly();
export const stockReleasedSchema = z
  .object({
    sku: skuSchema,
    orderId: idSchema,
    quantity: quantitySchema,
    /** Why the units went back on sale; 'expired' when the reservation ran out of time. */
    reason: reasonSchema,
    releasedAt: timestampSchema,
  })
  .readonly();
export const stockCommittedSchema = z
  .object({ sku: skuSchema, orderId: idSchema, quantity: quantitySchema, committedAt: timestampSchema })
  .readonly();

export type SkuTracked = Event<'SkuTracked', z.infer<typeof skuTrackedSchema>>;
export type StockReceived = Event<'StockReceived', z.infer<typeof stockReceivedSchema>>;
export type StockReserved = Event<'StockReserved', z.infer<typeof stockReservedSchema>>;
export type StockReleased = Event<'StockReleased', z.infer<typeof stockReleasedSchema>>;
export type StockCommitted = Event<'StockCommitted', z.infer<typeof stockCommittedSchema>>;

export type InventoryEvent = SkuTracked | StockReceived | StockReserved | StockReleased | StockCommitted;
export type RecordedInventoryEvent = Recorded<InventoryEvent>;

/** The reason a reservation released by `ExpireReservations` carries. */
export const EXPIRED_REASON = 'expired';

export const inventoryEventSchemas = {
  SkuTracked: { version: 1, schema: skuTrackedSchema },
  StockReceived: { version: 1, schema: stockReceivedSchema },
  StockReserved: { version: 1, schema: stockReservedSchema },
  StockReleased: { version: 1, schema: stockReleasedSchema },
  StockCommitted: { version: 1, schema: stockCommittedSchema },
} as const;

export const inventoryEventTypes = Object.keys(inventoryEventSchemas) as readonly InventoryEvent['type'][];
