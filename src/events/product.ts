/** Catalog facts, stream `product-<productId>`. */
import { z } from 'zod';
import type { Event, Recorded } from './event.js';
import { currencySchema, idSchema, moneySchema, nameSchema, reasonSchema, skuSchema } from './primitives.js';

export const productListedSchema = z
  .object({ productId: idSchema, sku: skuSchema, name: nameSchema, price: moneySchema, currency: currencySchema })
  .readonly();
export const productPriceChangedSchema = z
  .object({ productId: idSchema, price: moneySchema, previousPrice: moneySchema })
  .readonly();
export const productDelistedSchema = z
  .object({ productId: idSchema, reason: reasonSchema.exactOptional() })
  .readonly();

export type ProductListed = Event<'ProductListed', z.infer<typeof productListedSchema>>;
export type ProductPriceChanged = Event<'ProductPriceChanged', z.infer<typeof productPriceChangedSchema>>;
export type ProductDelisted = Event<'ProductDelisted', z.infer<typeof productDelistedSchema>>;

export type ProductEvent = ProductListed | ProductPriceChanged | ProductDelisted;
export type RecordedProductEvent = Recorded<ProductEvent>;

export const productEventSchemas = {
  ProductListed: { version: 1, schema: productListedSchema },
  ProductPriceChanged: { version: 1, schema: productPriceChangedSchema },
  ProductDelisted: { version: 1, schema: productDelistedSchema },
} as const;

export const productEventTypes = Object.keys(productEventSchemas) as readonly ProductEvent['type'][];
