/** The inventory decider: one stream per SKU, `inventory-<sku>`. */
import { EXPIRED_REASON } from '../../events/index.js';
import type {
  InventoryEvent,
  SkuTracked,
  StockCommitted,
  StockReceived,
  StockReleased,
  StockReserved,
} from '../../events/index.js';
import { DomainError } from '../../platform/errors.js';
import type { Decider } from '../decider.js';
import { unreachable } from '../decider.js';
import type {
  CommitStock,
  ExpireReservations,
  InventoryCommand,
  ReceiveStock,
  ReleaseStock,
  ReserveStock,
  TrackSku,
} from './commands.js';
import { available, isExpired } from './state.js';
import type { InventoryState, Reservation, TrackedInventory } from './state.js';

export const INVENTORY_STREAM_PREFIX = 'inventory-';
export const inventoryStreamId = (sku: string): string => `${INVENTORY_STREAM_PREFIX}${sku}`;

export const initialState = (): InventoryState => ({ status: 'untracked' });

const tracked = (state: InventoryState, sku: string): TrackedInventory => {
  if (state.status === 'untracked') throw new DomainError('KEEL_ERR_UNKNOWN_SKU', undefined, { sku });
  return state;
};

const reservationOf = (state: TrackedInventory, orderId: string): Reservation => {
  const reservation = state.reservations.get(orderId);
  if (!reservation) {
    throw new DomainError('KEEL_ERR_RESERVATION_NOT_FOUND', undefined, { sku: state.sku, orderId });
  }
  return reservation;
};

/** Tracking a SKU again for the same product is a no-op (the listing may be re-delivered). */
export const trackSku = ({ data }: TrackSku, state: InventoryState): SkuTracked[] => {
  if (state.status === 'untracked') return [{ type: 'SkuTracked', data: { sku: data.sku, productId: data.productId } }];
  if (state.productId === data.productId) return [];
  throw new DomainError('KEEL_ERR_SKU_TAKEN', undefined, {
    sku: data.sku,
    productId: data.productId,
    ownerProductId: state.productId,
  });
};

export const receiveStock = ({ data }: ReceiveStock, state: InventoryState): StockReceived[] => {
  tracked(state, data.sku);
  return [{ type: 'StockReceived', data: { sku: data.sku, quantity: data.quantity } }];
};

export const reserveStock = ({ data }: ReserveStock, state: InventoryState): StockReserved[] => {
  const stock = tracked(state, data.sku);
  if (stock.reservations.has(data.orderId)) {
    throw new DomainError('KEEL_ERR_RESERVATION_EXISTS', undefined, { sku: data.sku, orderId: data.orderId });
  }
  const units = available(stock);
  if (units < data.quantity) {
    throw new DomainError('KEEL_ERR_OUT_OF_STOCK', undefined, {
      sku: data.sku,
      requested: data.quantity,
      available: units,
    });
  }
  const { sku, orderId, quantity, expiresAt, now } = data;
  return [{ type: 'StockReserved', data: { sku, orderId, quantity, expiresAt, reservedAt: now } }];
};

export const releaseStock = ({ data }: ReleaseStock, state: InventoryState): StockReleased[] => {
  const { quantity } = reservationOf(tracked(state, data.sku), data.orderId);
  const { sku, orderId, reason, now } = data;
  return [{ type: 'StockReleased', data: { sku, orderId, quantity, reason, releasedAt: now } }];
};

export const commitStock = ({ data }: CommitStock, state: InventoryState): StockCommitted[] => {
  const reservation = reservationOf(tracked(state, data.sku), data.orderId);
  if (isExpired(reservation, data.now)) {
    throw new DomainError('KEEL_ERR_RESERVATION_EXPIRED', undefined, {
      sku: data.sku,
      orderId: data.orderId,
      expiresAt: reservation.expiresAt,
      now: data.now,
    });
  }
  const { sku, orderId, now } = data;
  return [{ type: 'StockCommitted', data: { sku, orderId, quantity: reservation.quantity, committedAt: now } }];
};

/** Releases every reservation that has expired by `now`, oldest first; possibly none. */
export const expireReservations = ({ data }: ExpireReservations, state: InventoryState): StockReleased[] =>
  [...tracked(state, data.sku).reservations]
    .filter(([, reservation]) => isExpired(reservation, data.now))
    .map(([orderId, { quantity }]) => ({
      type: 'StockReleased',
      data: { sku: data.sku, orderId, quantity, reason: EXPIRED_REASON, releasedAt: data.now },
    }));

export const decide = (command: InventoryCommand, state: InventoryState): InventoryEvent[] => {
  switch (command.type) {
    case 'TrackSku':
      return trackSku(command, state);
    case 'ReceiveStock':
      return receiveStock(command, state);
    case 'ReserveStock':
      return reserveStock(command, state);
    case 'ReleaseStock':
      return releaseStock(command, state);
    case 'CommitStock':
      return commitStock(command, state);
    case 'ExpireReservations':
      return expireReservations(command, state);
    default:
      return unreachable(command);
  }
};

/** Shared by every state with no reservation open (a ReadonlyMap: nothing writes to it). */
const NO_RESERVATIONS: ReadonlyMap<string, Reservation> = new Map();

const withoutReservation = (state: TrackedInventory, orderId: string): ReadonlyMap<string, Reservation> => {
  if (!state.reservations.has(orderId)) return state.reservations;
  // The usual case on a hot SKU: the one open reservation ends; no copy to make.
  if (state.reservations.size === 1) return NO_RESERVATIONS;
  const reservations = new Map(state.reservations);
  reservations.delete(orderId);
  return reservations;
};

const withReservation = (state: TrackedInventory, orderId: string, reservation: Reservation): ReadonlyMap<string, Reservation> =>
  state.reservations.size === 0 ? new Map([[orderId, reservation]]) : new Map(state.reservations).set(orderId, reservation);

/** Copy-on-write: never mutates `state` or its reservation map. */
export const evolve = (state: InventoryState, event: InventoryEvent): InventoryState => {
  if (event.type === 'SkuTracked') {
    if (state.status === 'tracked') return state;
    const { sku, productId } = event.data;
    return { status: 'tracked', sku, productId, received: 0, reserved: 0, sold: 0, reservations: NO_RESERVATIONS };
  }
  if (state.status === 'untracked') return state;
  switch (event.type) {
    case 'StockReceived':
      return { ...state, received: state.received + event.data.quantity };
    case 'StockReserved': {
      const { orderId, quantity, expiresAt } = event.data;
      return { ...state, reserved: state.reserved + quantity, reservations: withReservation(state, orderId, { quantity, expiresAt }) };
    }
    case 'StockReleased':
      return {
        ...state,
        reserved: state.reserved - event.data.quantity,
        reservations: withoutReservation(state, event.data.orderId),
      };
    case 'StockCommitted':
      return {
        ...state,
        reserved: state.reserved - event.data.quantity,
        sold: state.sold + event.data.quantity,
        reservations: withoutReservation(state, event.data.orderId),
      };
    default:
      return unreachable(event);
  }
};

export const inventoryDecider: Decider<InventoryCommand, InventoryEvent, InventoryState> = {
  initialState,
  evolve,
  decide,
};
