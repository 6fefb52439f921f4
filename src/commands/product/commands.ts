/** Catalog commands (wishes) and the schemas that validate them before they reach the decider. */
import { z } from 'zod';
import {
  currencySchema,
  idSchema,
  moneySchema,
  nameSchema,
  reasonSchema,
  skuSchema,
} from '../../events/index.js';
import { parseCommand } from '../decider.js';

export const listProductSchema = z
  .object({
    type: z.literal('ListProduct'),
    data: z
      .object({ productId: idSchema, sku: skuSchema, name: nameSchema, price: moneySchema, currency: currencySchema })
      .readonly(),
  })
  .readonly();

export const changePriceSchema = z
  .object({
    type: z.literal('ChangePrice'),
    data: z.object({ productId: idSchema, price: moneySchema }).readonly(),
  })
  .readonly();

export const delistProductSchema = z
  .object({
    type: z.literal('DelistProduct'),
    data: z.object({ productId: idSchema, reason: reasonSchema.exactOptional() }).readonly(),
  })
  .readonly();

export const productCommandSchema = z.discriminatedUnion('type', [
  listProductSchema,
  changePriceSchema,
  delistProductSchema,
]);

export type ListProduct = z.infer<typeof listProductSchema>;
export type ChangePrice = z.infer<typeof changePriceSchema>;
export type DelistProduct = z.infer<typeof delistProductSchema>;
export type ProductCommand = ListProduct | ChangePrice | DelistProduct;

/** Throws a `ValidationError` (KEEL_ERR_VALIDATION) naming the offending field. */
export const parseProductCommand = (input: unknown): ProductCommand => parseCommand(productCommandSchema, input);
