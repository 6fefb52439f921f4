/**
 * The event index's references, without a database: which rows `event_refs` gets for an event
 * (its id, its correlation, the order, payment and product its data names — never the SKU), read
 * from the raw data without decoding, so an odd event yields fewer refs instead of throwing.
 */
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/eventstore/port.js';
import { eventIndexProjection, refsOf } from '../../../src/projections/read-models/event-index/index.js';
import { eventTypes } from '../../../src/events/index.js';
import { committed, history, listed, paymentAuthorized, placed, received, tracked } from '../../support/read-model-events.js';

const [listing, tracking, receipt, placing, payment, commit] = history(
  listed('p1', 'SKU-1'),
  tracked('SKU-1', 'p1'),
  received('SKU-1', 5),
  placed('o1', 'c1', [{ sku: 'SKU-1', quantity: 1, unitPrice: 1000 }]),
  paymentAuthorized('o1', 1000),
  committed('SKU-1', 'o1', 1),
);

const one = (event: RecordedEvent | undefined): RecordedEvent => {
  if (event === undefined) throw new Error('missing fixture event');
  return event;
};
const eventRefOf = (event: RecordedEvent | undefined) => `event:${one(event).id}`;

describe('refsOf (the event index)', () => {
  it('indexes an event by its id and its correlation id', () => {
    expect(refsOf(one(receipt))).toEqual([eventRefOf(receipt), 'correlation:corr']);
  });

  it('adds the order, payment and product the data names, but never the SKU', () => {
    expect(refsOf(one(listing))).toEqual([eventRefOf(listing), 'correlation:corr', 'product:p1']);
    expect(refsOf(one(tracking))).toEqual([eventRefOf(tracking), 'correlation:corr', 'product:p1']);
    expect(refsOf(one(placing))).toEqual([eventRefOf(placing), 'correlation:corr', 'order:o1']);
    expect(refsOf(one(payment))).toEqual([eventRefOf(payment), 'correlation:corr', 'order:o1', 'payment:o1']);
    expect(refsOf(one(commit))).toEqual([eventRefOf(commit), 'correlation:corr', 'order:o1']);
    for (const event of [listing, tracking, receipt, placing, payment, commit]) {
      expect(refsOf(one(event)).some((ref) => ref.includes('SKU-1'))).toBe(false);
    }
  });

  it('leaves out a correlation or an id that is missing, empty or not a string, and never throws', () => {
    const odd = (data: unknown, metadata: Record<string, unknown>): RecordedEvent => ({ ...one(placing), data, metadata });
    expect(refsOf(odd({ orderId: 42, paymentId: '', productId: null }, { correlationId: '' }))).toEqual([eventRefOf(placing)]);
    expect(refsOf(odd(null, {}))).toEqual([eventRefOf(placing)]);
    expect(refsOf(odd('not an object', { correlationId: 7 }))).toEqual([eventRefOf(placing)]);
    expect(refsOf(odd([], { correlationId: 'k' }))).toEqual([eventRefOf(placing), 'correlation:k']);
  });

  it('gives each ref once, the same every time (the projection is deterministic)', () => {
    const refs = refsOf(one(payment));
    expect(new Set(refs).size).toBe(refs.length);
    expect(refsOf(one(payment))).toEqual(refs);
  });

  it('the projection handles every Keel event type, keyed by stream', () => {
    expect([...eventIndexProjection.eventTypes].sort()).toEqual([...eventTypes].sort());
    expect(eventIndexProjection.tables).toEqual(['event_refs']);
    expect(eventIndexProjection.keyOf(one(payment))).toBe('payment-o1');
  });
});
