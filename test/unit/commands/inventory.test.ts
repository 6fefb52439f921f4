import { describe, expect, it } from 'vitest';
import { inventoryDecider } from '../../../src/commands/inventory/index.js';
import type { InventoryEvent, StockReceived, StockReserved } from '../../../src/events/index.js';
import { spec } from '../../support/decider-spec.js';

const given = spec(inventoryDecider).given;
const sku = 'TSHIRT-M';
const t0 = '2026-03-01T10:00:00.000Z';
const t1 = '2026-03-01T10:05:00.000Z';
const expiry = '2026-03-01T10:15:00.000Z';
const afterExpiry = '2026-03-01T10:15:00.001Z';

const tracked: InventoryEvent = { type: 'SkuTracked', data: { sku, productId: 'p-1' } };
const received = (quantity: number): StockReceived => ({ type: 'StockReceived', data: { sku, quantity } });
const reserved = (orderId: string, quantity: number, expiresAt = expiry): StockReserved => ({
  type: 'StockReserved',
  data: { sku, orderId, quantity, expiresAt, reservedAt: t0 },
});

const reserve = (orderId: string, quantity: number) =>
  ({ type: 'ReserveStock', data: { sku, orderId, quantity, expiresAt: expiry, now: t0 } }) as const;
const release = (orderId: string, now = t1) =>
  ({ type: 'ReleaseStock', data: { sku, orderId, reason: 'order cancelled', now } }) as const;
const commit = (orderId: string, now = t1) => ({ type: 'CommitStock', data: { sku, orderId, now } }) as const;
const expire = (now: string) => ({ type: 'ExpireReservations', data: { sku, now } }) as const;

describe('inventory decider', () => {
  describe('TrackSku', () => {
    const track = (productId: string) => ({ type: 'TrackSku', data: { sku, productId } }) as const;

    it('starts tracking a new SKU', () => {
      given([]).when(track('p-1')).then([tracked]);
    });
    it('records nothing when the same product tracks it again', () => {
      given([tracked]).when(track('p-1')).then([]);
    });
    it('refuses a SKU already tracked by another product', () => {
      given([tracked]).when(track('p-2')).thenThrows('KEEL_ERR_SKU_TAKEN', { ownerProductId: 'p-1' });
    });
  });

  describe('ReceiveStock', () => {
    const receive = { type: 'ReceiveStock', data: { sku, quantity: 10 } } as const;
    it('receives units', () => {
      given([tracked]).when(receive).then([received(10)]);
    });
    it('refuses a SKU never tracked', () => {
      given([]).when(receive).thenThrows('KEEL_ERR_UNKNOWN_SKU', { sku });
    });
  });

  describe('ReserveStock', () => {
    it('reserves available units until the given time', () => {
      given([tracked, received(10)]).when(reserve('o-1', 3)).then([reserved('o-1', 3)]);
    });
    it('reserves the very last units', () => {
      given([tracked, received(10), reserved('o-1', 7)]).when(reserve('o-2', 3)).then([reserved('o-2', 3)]);
    });
    it('refuses more than is available, counting reservations and sales', () => {
      given([
        tracked,
        received(10),
        reserved('o-1', 4),
        reserved('o-2', 3),
        { type: 'StockCommitted', data: { sku, orderId: 'o-2', quantity: 3, committedAt: t1 } },
      ])
        .when(reserve('o-3', 4))
        .thenThrows('KEEL_ERR_OUT_OF_STOCK', { requested: 4, available: 3 });
    });
    it('refuses when nothing was ever received', () => {
      given([tracked]).when(reserve('o-1', 1)).thenThrows('KEEL_ERR_OUT_OF_STOCK', { available: 0 });
    });
    it('refuses a second reservation for the same order', () => {
      given([tracked, received(10), reserved('o-1', 1)]).when(reserve('o-1', 1)).thenThrows('KEEL_ERR_RESERVATION_EXISTS');
    });
    it('lets an order reserve again after its reservation was released', () => {
      given([
        tracked,
        received(1),
        reserved('o-1', 1),
        { type: 'StockReleased', data: { sku, orderId: 'o-1', quantity: 1, reason: 'x', releasedAt: t1 } },
      ])
        .when(reserve('o-1', 1))
        .then([reserved('o-1', 1)]);
    });
    it('refuses a SKU never tracked', () => {
      given([]).when(reserve('o-1', 1)).thenThrows('KEEL_ERR_UNKNOWN_SKU');
    });
  });

  describe('ReleaseStock', () => {
    it('releases the units the order held', () => {
      given([tracked, received(10), reserved('o-1', 4)])
        .when(release('o-1'))
        .then([
          { type: 'StockReleased', data: { sku, orderId: 'o-1', quantity: 4, reason: 'order cancelled', releasedAt: t1 } },
        ]);
    });
    it('refuses an order without a reservation', () => {
      given([tracked, received(10)]).when(release('o-1')).thenThrows('KEEL_ERR_RESERVATION_NOT_FOUND', { orderId: 'o-1' });
    });
    it('refuses a reservation already committed', () => {
      given([
        tracked,
        received(10),
        reserved('o-1', 4),
        { type: 'StockCommitted', data: { sku, orderId: 'o-1', quantity: 4, committedAt: t1 } },
      ])
        .when(release('o-1'))
        .thenThrows('KEEL_ERR_RESERVATION_NOT_FOUND');
    });
    it('refuses a SKU never tracked', () => {
      given([]).when(release('o-1')).thenThrows('KEEL_ERR_UNKNOWN_SKU');
    });
  });

  describe('CommitStock', () => {
    const committed = { type: 'StockCommitted', data: { sku, orderId: 'o-1', quantity: 4, committedAt: t1 } } as const;

    it('sells the reserved units', () => {
      given([tracked, received(10), reserved('o-1', 4)]).when(commit('o-1')).then([committed]);
    });
    it('still commits at the exact expiry instant', () => {
      given([tracked, received(10), reserved('o-1', 4)])
        .when(commit('o-1', expiry))
        .then([{ ...committed, data: { ...committed.data, committedAt: expiry } }]);
    });
    it('refuses a reservation that has expired', () => {
      given([tracked, received(10), reserved('o-1', 4)])
        .when(commit('o-1', afterExpiry))
        .thenThrows('KEEL_ERR_RESERVATION_EXPIRED', { expiresAt: expiry });
    });
    it('never commits the same reservation twice', () => {
      given([tracked, received(10), reserved('o-1', 4), committed])
        .when(commit('o-1'))
        .thenThrows('KEEL_ERR_RESERVATION_NOT_FOUND');
    });
    it('refuses a released reservation', () => {
      given([
        tracked,
        received(10),
        reserved('o-1', 4),
        { type: 'StockReleased', data: { sku, orderId: 'o-1', quantity: 4, reason: 'x', releasedAt: t1 } },
      ])
        .when(commit('o-1'))
        .thenThrows('KEEL_ERR_RESERVATION_NOT_FOUND');
    });
    it('refuses an order without a reservation', () => {
      given([tracked, received(10)]).when(commit('o-1')).thenThrows('KEEL_ERR_RESERVATION_NOT_FOUND');
    });
    it('refuses a SKU never tracked', () => {
      given([]).when(commit('o-1')).thenThrows('KEEL_ERR_UNKNOWN_SKU');
    });
  });

  describe('ExpireReservations', () => {
    const history = [
      tracked,
      received(10),
      reserved('o-1', 1, '2026-03-01T10:10:00.000Z'),
      reserved('o-2', 2, '2026-03-01T10:20:00.000Z'),
      reserved('o-3', 3, '2026-03-01T10:12:00.000Z'),
    ];
    const expired = (orderId: string, quantity: number, now: string) => ({
      type: 'StockReleased' as const,
      data: { sku, orderId, quantity, reason: 'expired', releasedAt: now },
    });

    it('releases every expired reservation, in reservation order', () => {
      const now = '2026-03-01T10:15:00.000Z';
      given(history).when(expire(now)).then([expired('o-1', 1, now), expired('o-3', 3, now)]);
    });
    it('records nothing when no reservation has expired', () => {
      given(history).when(expire('2026-03-01T10:10:00.000Z')).then([]);
    });
    it('records nothing without reservations', () => {
      given([tracked]).when(expire(t1)).then([]);
    });
    it('refuses a SKU never tracked', () => {
      given([]).when(expire(t1)).thenThrows('KEEL_ERR_UNKNOWN_SKU');
    });
  });

  describe('evolve', () => {
    it('does not mutate the state it is given', () => {
      const before = [tracked, received(10), reserved('o-1', 4)].reduce(
        inventoryDecider.evolve,
        inventoryDecider.initialState(),
      );
      const snapshot = structuredClone(before);
      const after = inventoryDecider.evolve(before, {
        type: 'StockCommitted',
        data: { sku, orderId: 'o-1', quantity: 4, committedAt: t1 },
      });
      expect(before).toEqual(snapshot);
      expect(after).toMatchObject({ received: 10, reserved: 0, sold: 4 });
      expect(after.status === 'tracked' && after.reservations.size).toBe(0);
    });
  });
});
