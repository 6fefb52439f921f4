/**
 * `OrderPlaced` as first written (schema version 1): lines were `{ sku, qty, price }` with `price`
 * a decimal string in major units ("19.99"), and there was no currency (everything was in euros)
 * and no total. The upcaster turns it into version 2: `{ sku, quantity, unitPrice }` in integer
 * minor units, `currency: 'EUR'` and the computed `total`.
 */
import { z } from 'zod';
import { idSchema, skuSchema, timestampSchema } from './primitives.js';

/** A non-negative decimal with at most two fractional digits, e.g. "19.99", "5", "0.5". */
const decimalPriceSchema = z.string().regex(/^\d{1,8}(\.\d{1,2})?$/, 'a decimal price such as "19.99"');

export const orderPlacedV1Schema = z.object({
  orderId: idSchema,
  customerId: idSchema,
  lines: z
    .array(z.object({ sku: skuSchema, qty: z.number().int().positive(), price: decimalPriceSchema }))
    .min(1),
  placedAt: timestampSchema,
});

export type OrderPlacedV1Data = z.infer<typeof orderPlacedV1Schema>;

/** The currency every version-1 order was placed in. */
export const V1_CURRENCY = 'EUR';

/** "19.99" → 1999, "19.9" → 1990, "19" → 1900, without going through floating point. */
export const decimalToMinorUnits = (price: string): number => {
  const [whole = '0', fraction = ''] = decimalPriceSchema.parse(price).split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
};

export const upcastOrderPlacedV1 = (data: unknown) => {
  const v1 = orderPlacedV1Schema.parse(data);
  const lines = v1.lines.map((line) => ({
    sku: line.sku,
    quantity: line.qty,
    unitPrice: decimalToMinorUnits(line.price),
  }));
  return {
    orderId: v1.orderId,
    customerId: v1.customerId,
    lines,
    currency: V1_CURRENCY,
    total: lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0),
    placedAt: v1.placedAt,
  };
};
