/**
 * Order facts, stream `order-<orderId>`. `OrderPlaced` is at schema version 2; version 1 and its
 * upcaster live beside it in order-placed-v1.ts.
 */
import { z } from 'zod';
import type { Event, Recorded } from './event.js';
import { upcastOrderPlacedV1 } from './order-placed-v1.js';
import {
  currencySchema,
  idSchema,
  moneySchema,
  quantitySchema,
  reasonSchema,
  skuSchema,
  timestampSchema,
  totalSchema,
} from './primitives.js';

export const orderLineSchema = z
  .object({ sku: skuSchema, quantity: quantitySchema, unitPrice: moneySchema })
  .readonly();

export const orderPlacedSchema = z
  .object({
    orderId: idSchema,
    customerId: idSchema,
    lines: z.array(orderLineSchema).min(1).readonly(),
    currency: currencySchema,
    /** Sum of quantity × unitPrice over the lines, in minor units. */
    total: totalSchema,
    placedAt: timestampSchema,
  })
  .readonly();
export const orderConfirmedSchema = z
  .object({ orderId: idSchema, paymentId: idSchema, confirmedAt: timestampSchema })
  .readonly();
export const orderCancelledSchema = z
  .object({ orderId: idSchema, reason: reasonSchema, cancelledAt: timestampSchema })
  .readonly();

export type OrderLine = z.infer<typeof orderLineSchema>;
export type OrderPlaced = Event<'OrderPlaced', z.infer<typeof orderPlacedSchema>>;
export type OrderConfirmed = Event<'OrderConfirmed', z.infer<typeof orderConfirmedSchema>>;
export type OrderCancelled = Event<'OrderCancelled', z.infer<typeof orderCancelledSchema>>;

export type OrderEvent = OrderPlaced | OrderConfirmed | OrderCancelled;
export type RecordedOrderEvent = Recorded<OrderEvent>;

export const orderEventSchemas = {
  OrderPlaced: { version: 2, schema: orderPlacedSchema, upcasters: { 1: upcastOrderPlacedV1 } },
  OrderConfirmed: { version: 1, schema: orderConfirmedSchema },
  OrderCancelled: { version: 1, schema: orderCancelledSchema },
} as const;

export const orderEventTypes = Object.keys(orderEventSchemas) as readonly OrderEvent['type'][];
