/** What daily sales answer, and its JSON payload form (positions as decimal strings). */

export interface DailySalesRow {
  readonly productId: string;
  /** UTC day, 'YYYY-MM-DD'. */
  readonly day: string;
  readonly currency: string;
  readonly units: number;
  /** Minor units of `currency`. */
  readonly revenue: number;
  /** Order lines sold (committed) that day. */
  readonly orders: number;
  readonly lastSaleAt: string;
  readonly updatedPosition: bigint;
}

export const dailySalesToPayload = (row: DailySalesRow) => ({ ...row, updatedPosition: row.updatedPosition.toString() });
