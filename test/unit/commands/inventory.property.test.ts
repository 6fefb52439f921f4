/**
 * Properties of the inventory decider over random command sequences (receive / reserve / release /
 * commit / expire / track, random quantities, order ids and times): stock is never oversold, no
 * reservation is committed twice, the state's counts are what the events imply, and a refused
 * command records nothing and leaves the state as it was.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { available, inventoryDecider } from '../../../src/commands/inventory/index.js';
import type { InventoryCommand, InventoryState } from '../../../src/commands/inventory/index.js';
import type { ErrorCode } from '../../../src/platform/errors.js';
import { DomainError } from '../../../src/platform/errors.js';
import type { InventoryEvent } from '../../../src/events/index.js';

const sku = 'FLASH-1';
const start = Date.parse('2026-03-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A step: how far the clock moves first, then which command to send. */
type Step =
  | { advance: number; kind: 'track'; productId: string }
  | { advance: number; kind: 'receive'; quantity: number }
  | { advance: number; kind: 'reserve'; orderId: string; quantity: number; ttl: number }
  | { advance: number; kind: 'release'; orderId: string }
  | { advance: number; kind: 'commit'; orderId: string }
  | { advance: number; kind: 'expire' };

const orderId = fc.constantFrom('o-1', 'o-2', 'o-3', 'o-4');
/** Mostly small steps of the clock, sometimes long ones (so reservations expire now and then). */
const advance = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 60_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 20 * 60_000 }) },
);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ advance, kind: fc.constant('track'), productId: fc.constantFrom('p-1', 'p-2') }) },
  { weight: 3, arbitrary: fc.record({ advance, kind: fc.constant('receive'), quantity: fc.integer({ min: 1, max: 20 }) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      advance,
      kind: fc.constant('reserve'),
      orderId,
      quantity: fc.integer({ min: 1, max: 10 }),
      ttl: fc.integer({ min: 1, max: 10 * 60_000 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ advance, kind: fc.constant('release'), orderId }) },
  { weight: 4, arbitrary: fc.record({ advance, kind: fc.constant('commit'), orderId }) },
  { weight: 2, arbitrary: fc.record({ advance, kind: fc.constant('expire') }) },
);

const toCommand = (s: Step, nowMs: number): InventoryCommand => {
  const now = iso(nowMs);
  switch (s.kind) {
    case 'track':
      return { type: 'TrackSku', data: { sku, productId: s.productId } };
    case 'receive':
      return { type: 'ReceiveStock', data: { sku, quantity: s.quantity } };
    case 'reserve':
      return {
        type: 'ReserveStock',
        data: { sku, orderId: s.orderId, quantity: s.quantity, expiresAt: iso(nowMs + s.ttl), now },
      };
    case 'release':
      return { type: 'ReleaseStock', data: { sku, orderId: s.orderId, reason: 'cancelled', now } };
    case 'commit':
      return { type: 'CommitStock', data: { sku, orderId: s.orderId, now } };
    case 'expire':
      return { type: 'ExpireReservations', data: { sku, now } };
  }
};

const refusals: Record<InventoryCommand['type'], readonly ErrorCode[]> = {
  TrackSku: ['KEEL_ERR_SKU_TAKEN'],
  ReceiveStock: ['KEEL_ERR_UNKNOWN_SKU'],
  ReserveStock: ['KEEL_ERR_UNKNOWN_SKU', 'KEEL_ERR_OUT_OF_STOCK', 'KEEL_ERR_RESERVATION_EXISTS'],
  ReleaseStock: ['KEEL_ERR_UNKNOWN_SKU', 'KEEL_ERR_RESERVATION_NOT_FOUND'],
  CommitStock: ['KEEL_ERR_UNKNOWN_SKU', 'KEEL_ERR_RESERVATION_NOT_FOUND', 'KEEL_ERR_RESERVATION_EXPIRED'],
  ExpireReservations: ['KEEL_ERR_UNKNOWN_SKU'],
};

/** What the event log says, computed without the decider: counts and active reservations. */
const implied = (events: readonly InventoryEvent[]) => {
  let received = 0;
  let sold = 0;
  const active = new Map<string, { quantity: number; expiresAt: string }>();
  for (const event of events) {
    switch (event.type) {
      case 'StockReceived':
        received += event.data.quantity;
        break;
      case 'StockReserved':
        // an order holds at most one reservation at a time
        expect(active.has(event.data.orderId)).toBe(false);
        active.set(event.data.orderId, { quantity: event.data.quantity, expiresAt: event.data.expiresAt });
        break;
      case 'StockReleased':
      case 'StockCommitted': {
        // released or committed only while reserved, and for exactly the reserved quantity: so a
        // reservation is committed at most once and never after its release
        const reservation = active.get(event.data.orderId);
        expect(reservation?.quantity).toBe(event.data.quantity);
        active.delete(event.data.orderId);
        if (event.type === 'StockCommitted') sold += event.data.quantity;
        break;
      }
      case 'SkuTracked':
        break;
    }
  }
  const reserved = [...active.values()].reduce((sum, r) => sum + r.quantity, 0);
  return { received, reserved, sold, active };
};

const checkInvariants = (state: InventoryState, events: readonly InventoryEvent[]): void => {
  if (state.status === 'untracked') {
    expect(events).toEqual([]);
    return;
  }
  const { received, reserved, sold, active } = implied(events);
  expect({ received: state.received, reserved: state.reserved, sold: state.sold }).toEqual({ received, reserved, sold });
  expect(new Map(state.reservations)).toEqual(active);
  expect(state.reserved).toBeGreaterThanOrEqual(0);
  expect(state.reserved + state.sold).toBeLessThanOrEqual(state.received);
};

/** Outcomes seen (`ReserveStock:ok`, `CommitStock:KEEL_ERR_RESERVATION_EXPIRED`, …), to show the properties are not vacuous. */
const seen = new Set<string>();

const run = (startTracked: boolean, steps: readonly Step[]) => {
  const events: InventoryEvent[] = startTracked ? [{ type: 'SkuTracked', data: { sku, productId: 'p-1' } }] : [];
  let state = events.reduce(inventoryDecider.evolve, inventoryDecider.initialState());
  let nowMs = start;
  for (const s of steps) {
    nowMs += s.advance;
    const command = toCommand(s, nowMs);
    const before = structuredClone(state);
    let decided: readonly InventoryEvent[] | undefined;
    try {
      decided = inventoryDecider.decide(command, state);
    } catch (error) {
      // a refusal is a DomainError with a code this command may refuse with, and changes nothing
      expect(error).toBeInstanceOf(DomainError);
      if (error instanceof DomainError) expect(refusals[command.type]).toContain(error.code);
      seen.add(`${command.type}:${error instanceof DomainError ? error.code : 'unexpected'}`);
      if (error instanceof DomainError && error.code === 'KEEL_ERR_OUT_OF_STOCK' && state.status === 'tracked') {
        expect(available(state)).toBeLessThan(command.type === 'ReserveStock' ? command.data.quantity : 0);
      }
      expect(state).toEqual(before);
      continue;
    }
    if (command.type === 'CommitStock' && state.status === 'tracked') {
      const reservation = state.reservations.get(command.data.orderId);
      expect(reservation && Date.parse(reservation.expiresAt) >= nowMs).toBe(true);
    }
    seen.add(`${command.type}:${decided.length > 0 ? 'ok' : 'nothing'}`);
    const next = decided.reduce(inventoryDecider.evolve, state);
    expect(state).toEqual(before); // evolve copies, never mutates
    state = next;
    events.push(...decided);
    checkInvariants(state, events);
  }
  return { state, events };
};

/**
 * One hand-written sequence that reaches every outcome, run first by fast-check beside the random ones:
 * random runs alone reached `CommitStock:KEEL_ERR_RESERVATION_EXPIRED` only with some seeds, so the
 * "not vacuous" check below failed now and then (a CI run did).
 */
const everyOutcomeExample: Step[] = [
  { advance: 0, kind: 'receive', quantity: 5 }, // ReceiveStock:KEEL_ERR_UNKNOWN_SKU
  { advance: 0, kind: 'reserve', orderId: 'o-1', quantity: 1, ttl: 1_000 }, // ReserveStock:KEEL_ERR_UNKNOWN_SKU
  { advance: 0, kind: 'release', orderId: 'o-1' }, // ReleaseStock:KEEL_ERR_UNKNOWN_SKU
  { advance: 0, kind: 'commit', orderId: 'o-1' }, // CommitStock:KEEL_ERR_UNKNOWN_SKU
  { advance: 0, kind: 'expire' }, // ExpireReservations:KEEL_ERR_UNKNOWN_SKU
  { advance: 0, kind: 'track', productId: 'p-1' }, // TrackSku:ok
  { advance: 0, kind: 'track', productId: 'p-2' }, // TrackSku:KEEL_ERR_SKU_TAKEN
  { advance: 0, kind: 'receive', quantity: 5 }, // ReceiveStock:ok
  { advance: 0, kind: 'reserve', orderId: 'o-1', quantity: 2, ttl: 1_000 }, // ReserveStock:ok
  { advance: 0, kind: 'reserve', orderId: 'o-1', quantity: 1, ttl: 1_000 }, // ReserveStock:KEEL_ERR_RESERVATION_EXISTS
  { advance: 0, kind: 'reserve', orderId: 'o-2', quantity: 10, ttl: 1_000 }, // ReserveStock:KEEL_ERR_OUT_OF_STOCK
  { advance: 0, kind: 'release', orderId: 'o-3' }, // ReleaseStock:KEEL_ERR_RESERVATION_NOT_FOUND
  { advance: 0, kind: 'commit', orderId: 'o-3' }, // CommitStock:KEEL_ERR_RESERVATION_NOT_FOUND
  { advance: 0, kind: 'release', orderId: 'o-1' }, // ReleaseStock:ok
  { advance: 0, kind: 'reserve', orderId: 'o-2', quantity: 1, ttl: 1_000 }, // ReserveStock:ok
  { advance: 0, kind: 'commit', orderId: 'o-2' }, // CommitStock:ok
  { advance: 0, kind: 'reserve', orderId: 'o-3', quantity: 1, ttl: 1_000 }, // ReserveStock:ok
  { advance: 5_000, kind: 'commit', orderId: 'o-3' }, // CommitStock:KEEL_ERR_RESERVATION_EXPIRED
  { advance: 0, kind: 'expire' }, // ExpireReservations:ok
];

describe('inventory decider properties', () => {
  it('never oversells, never commits a reservation twice, and its counts match its events', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(step, { maxLength: 80 }), (startTracked, steps) => {
        run(startTracked, steps);
      }),
      { numRuns: 400, examples: [[false, everyOutcomeExample]] },
    );
    const everyOutcome = Object.entries(refusals).flatMap(([type, codes]) => [`${type}:ok`, ...codes.map((code) => `${type}:${code}`)]);
    expect([...seen].sort()).toEqual(expect.arrayContaining(everyOutcome));
  });

  it('after ExpireReservations at time t, no reservation expired by t remains', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), advance, (steps, wait) => {
        const { state, events } = run(true, steps);
        const nowMs = start + steps.reduce((sum, s) => sum + s.advance, 0) + wait;
        const released = inventoryDecider.decide({ type: 'ExpireReservations', data: { sku, now: iso(nowMs) } }, state);
        const after = released.reduce(inventoryDecider.evolve, state);
        if (after.status !== 'tracked') return;
        for (const reservation of after.reservations.values()) {
          expect(Date.parse(reservation.expiresAt)).toBeGreaterThanOrEqual(nowMs);
        }
        checkInvariants(after, [...events, ...released]);
      }),
      { numRuns: 200 },
    );
  });

  it('a flash sale of many orders for little stock sells exactly the stock reserved first-come, no more', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 60 }),
        (stock, wanted) => {
          const steps: Step[] = [
            { advance: 0, kind: 'receive', quantity: stock },
            ...wanted.map((quantity, i): Step => ({ advance: 1, kind: 'reserve', orderId: `o-${i}`, quantity, ttl: 60_000 })),
            ...wanted.map((_, i): Step => ({ advance: 1, kind: 'commit', orderId: `o-${i}` })),
          ];
          const { state } = run(true, steps);
          const firstCome = wanted.reduce((left, quantity) => (quantity <= left ? left - quantity : left), stock);
          expect(state).toMatchObject({ received: stock, reserved: 0, sold: stock - firstCome });
        },
      ),
      { numRuns: 200 },
    );
  });
});
