/**
 * What the catalog answers, and the JSON form of it that cache entries and notices carry
 * (positions as decimal strings). A payload that does not match is treated as a cache miss.
 */
import { z } from 'zod';
import type { ProductStatus } from './tables.js';

export interface AvailabilityView {
  readonly sku: string;
  readonly productId: string | null;
  readonly received: number;
  readonly reserved: number;
  readonly sold: number;
  /** received − reserved − sold: what can still be reserved. */
  readonly available: number;
  /** Position of the last event that changed this SKU's stock. */
  readonly updatedPosition: bigint;
}

export interface ProductView {
  readonly productId: string;
  readonly sku: string;
  readonly name: string;
  /** Minor units of `currency`. */
  readonly price: number;
  readonly currency: string;
  readonly status: ProductStatus;
  readonly delistReason: string | null;
  readonly listedAt: string;
  /** Units of the product's SKU that can still be reserved (0 before any stock arrives). */
  readonly available: number;
  /** Position of the last event that changed the product or its stock. */
  readonly updatedPosition: bigint;
}

const position = z.string().regex(/^\d+$/).transform(BigInt);
const count = z.number().int();

const availabilityPayloadSchema = z.object({
  sku: z.string(),
  productId: z.string().nullable(),
  received: count,
  reserved: count,
  sold: count,
  available: count,
  updatedPosition: position,
});

const productPayloadSchema = z.object({
  productId: z.string(),
  sku: z.string(),
  name: z.string(),
  price: count,
  currency: z.string(),
  status: z.enum(['listed', 'delisted']),
  delistReason: z.string().nullable(),
  listedAt: z.string(),
  available: count,
  updatedPosition: position,
});

export type JsonOf<T> = { readonly [K in keyof T]: T[K] extends bigint ? string : T[K] };

export const availabilityToPayload = (view: AvailabilityView): JsonOf<AvailabilityView> => ({
  ...view,
  updatedPosition: view.updatedPosition.toString(),
});

export const productToPayload = (view: ProductView): JsonOf<ProductView> => ({
  ...view,
  updatedPosition: view.updatedPosition.toString(),
});

export const availabilityFromPayload = (payload: unknown): AvailabilityView | undefined => {
  const parsed = availabilityPayloadSchema.safeParse(payload);
  return parsed.success ? parsed.data : undefined;
};

export const productFromPayload = (payload: unknown): ProductView | undefined => {
  const parsed = productPayloadSchema.safeParse(payload);
  return parsed.success ? parsed.data : undefined;
};
