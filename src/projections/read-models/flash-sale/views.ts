/** What the flash-sale board answers, and its JSON payload form (positions as decimal strings). */

export interface FlashSaleBoardRow {
  readonly sku: string;
  readonly productId: string | null;
  /** received − reserved − sold: what is still on sale. */
  readonly unitsLeft: number;
  /** Held for orders right now (not yet paid, not yet released). */
  readonly reserved: number;
  readonly sold: number;
  readonly received: number;
  readonly lastSale: { readonly at: string; readonly orderId: string; readonly quantity: number } | null;
  readonly updatedPosition: bigint;
}

export const boardRowToPayload = (row: FlashSaleBoardRow) => ({ ...row, updatedPosition: row.updatedPosition.toString() });
