/** What the write side knows of one product, as a union keyed by `status`. */
export interface ProductDetails {
  readonly productId: string;
  readonly sku: string;
  readonly name: string;
  /** Integer minor units of `currency`. */
  readonly price: number;
  readonly currency: string;
}

export type ProductState =
  | { readonly status: 'unlisted' }
  | ({ readonly status: 'listed' } & ProductDetails)
  | ({ readonly status: 'delisted'; readonly reason?: string } & ProductDetails);
