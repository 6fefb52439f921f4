import { describe, expect, it } from 'vitest';
import {
  EventDecodingError,
  currentVersion,
  decimalToMinorUnits,
  eventRegistry,
  parseEvent,
  parseEventOf,
  parseRecordedEvent,
  orderEventTypes,
  upcast,
} from '../../../src/events/index.js';

const v1 = {
  orderId: 'o-legacy',
  customerId: 'c-1',
  lines: [
    { sku: 'TSHIRT-M', qty: 2, price: '19.99' },
    { sku: 'MUG', qty: 3, price: '8.5' },
    { sku: 'STICKER', qty: 1, price: '1' },
  ],
  placedAt: '2024-11-29T08:00:00.000Z',
};

const v2 = {
  orderId: 'o-legacy',
  customerId: 'c-1',
  lines: [
    { sku: 'TSHIRT-M', quantity: 2, unitPrice: 1999 },
    { sku: 'MUG', quantity: 3, unitPrice: 850 },
    { sku: 'STICKER', quantity: 1, unitPrice: 100 },
  ],
  currency: 'EUR',
  total: 2 * 1999 + 3 * 850 + 100,
  placedAt: '2024-11-29T08:00:00.000Z',
};

describe('OrderPlaced upcaster (v1 → v2)', () => {
  it('registers OrderPlaced at version 2 with an upcaster from version 1', () => {
    expect(eventRegistry.OrderPlaced.version).toBe(2);
    expect(eventRegistry.OrderPlaced.upcasters?.[1]).toBeTypeOf('function');
  });

  it('reads a v1 OrderPlaced as v2: minor units, quantity, EUR and the computed total', () => {
    expect(upcast('OrderPlaced', 1, v1)).toEqual(v2);
  });

  it('leaves current-version data as it is (validated)', () => {
    expect(upcast('OrderPlaced', 2, v2)).toEqual(v2);
  });

  it('parses a stored v1 event into a typed OrderPlaced', () => {
    const event = parseEvent({ type: 'OrderPlaced', schemaVersion: 1, data: v1 });
    expect(event).toEqual({ type: 'OrderPlaced', data: v2 });
    if (event.type !== 'OrderPlaced') throw new Error('narrowing');
    expect(event.data.lines[0]?.unitPrice).toBe(1999);
  });

  it('converts decimal prices without floating-point error', () => {
    expect(decimalToMinorUnits('0.29')).toBe(29);
    expect(decimalToMinorUnits('1.10')).toBe(110);
    expect(decimalToMinorUnits('19.9')).toBe(1990);
    expect(decimalToMinorUnits('4.35')).toBe(435); // 4.35 * 100 === 434.99999999999994
    expect(decimalToMinorUnits('12345678.99')).toBe(1234567899);
  });

  it.each([['19.999'], ['-1.00'], ['1,50'], ['abc'], ['']])('refuses the malformed v1 price %j', (price) => {
    const data = { ...v1, lines: [{ sku: 'MUG', qty: 1, price }] };
    expect(() => upcast('OrderPlaced', 1, data)).toThrow(EventDecodingError);
  });

  it('refuses v1 data that is not v1 (e.g. v2 data labelled v1)', () => {
    expect(() => upcast('OrderPlaced', 1, v2)).toThrow(EventDecodingError);
  });
});

describe('upcast and parseEvent', () => {
  it('throws on an unknown event type', () => {
    expect(() => upcast('OrderShipped', 1, {})).toThrow(/Unknown event type "OrderShipped"/);
  });

  it.each([[0], [3], [1.5], [-1]])('throws on schema version %s of OrderPlaced', (version) => {
    expect(() => upcast('OrderPlaced', version, v2)).toThrow(EventDecodingError);
  });

  it('throws on a version newer than the current one for a v1 event', () => {
    expect(() => upcast('StockReceived', 2, { sku: 'A', quantity: 1 })).toThrow(/no schema version 2/);
  });

  it('tells the version to write a type with, and throws on an unknown type', () => {
    expect(currentVersion('OrderPlaced')).toBe(2);
    expect(currentVersion('StockReserved')).toBe(1);
    expect(() => currentVersion('OrderShipped')).toThrow(EventDecodingError);
  });

  it('defaults the schema version to 1', () => {
    expect(parseEvent({ type: 'StockReceived', data: { sku: 'A', quantity: 1 } })).toEqual({
      type: 'StockReceived',
      data: { sku: 'A', quantity: 1 },
    });
  });

  it('restricts parsing to one aggregate’s event types', () => {
    const stored = { type: 'StockReceived', data: { sku: 'A', quantity: 1 } };
    expect(() => parseEventOf(orderEventTypes, stored)).toThrow(/not one of/);
    expect(parseEventOf(orderEventTypes, { type: 'OrderPlaced', schemaVersion: 1, data: v1 }).data).toEqual(v2);
  });

  it('parses the recorded form with its metadata, and refuses malformed metadata', () => {
    const metadata = {
      commandId: 'cmd-1',
      correlationId: 'cmd-1',
      causationId: 'cmd-1',
      actor: 'user:c-1',
      timestamp: '2026-03-01T10:00:00.000Z',
      traceId: 'extra keys are kept',
    };
    const stored = { type: 'StockReceived', data: { sku: 'A', quantity: 1 }, metadata };
    expect(parseRecordedEvent(stored)).toEqual({ type: 'StockReceived', data: { sku: 'A', quantity: 1 }, metadata });
    expect(() => parseRecordedEvent({ ...stored, metadata: { commandId: 'cmd-1' } })).toThrow(/metadata/);
  });
});
