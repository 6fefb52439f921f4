/**
 * The stock of one SKU. Counts are units: `received` ever delivered, `reserved` held for orders
 * right now, `sold` committed for good. Invariant: reserved + sold <= received.
 */
export interface Reservation {
  readonly quantity: number;
  readonly expiresAt: string;
}

export type InventoryState =
  | { readonly status: 'untracked' }
  | {
      readonly status: 'tracked';
      readonly sku: string;
      readonly productId: string;
      readonly received: number;
      readonly reserved: number;
      readonly sold: number;
      /** Active reservations by order id (committed and released ones are removed). */
      readonly reservations: ReadonlyMap<string, Reservation>;
    };

export type TrackedInventory = Extract<InventoryState, { status: 'tracked' }>;

/** Units that can still be reserved. */
export const available = (state: TrackedInventory): number => state.received - state.reserved - state.sold;

/** A reservation has expired once `now` is strictly later than its `expiresAt`. */
export const isExpired = (reservation: Reservation, now: string): boolean =>
  Date.parse(now) > Date.parse(reservation.expiresAt);
