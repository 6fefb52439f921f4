/** The pure parts of replay: conditions, plain forms of states, structural diffs, bounds. */
import { describe, expect, it } from 'vitest';
import { diffStates, holds, parseBound, parseCondition, parsePosition, parseRevision, parseTime, toPlain } from '../../../src/replay/index.js';

describe('conditions (--until)', () => {
  it('reads paths, operators and JSON or bare values', () => {
    expect(parseCondition('available < 0')).toMatchObject({ path: ['available'], op: '<', value: 0 });
    expect(parseCondition('status == "cancelled"')).toMatchObject({ path: ['status'], op: '==', value: 'cancelled' });
    expect(parseCondition('status != cancelled')).toMatchObject({ op: '!=', value: 'cancelled' });
    expect(parseCondition('reservations.o-17.quantity >= 2')).toMatchObject({ path: ['reservations', 'o-17', 'quantity'], op: '>=', value: 2 });
    expect(parseCondition('paymentId == null')).toMatchObject({ value: null });
  });

  it('refuses malformed conditions with a coded error that shows the form', () => {
    for (const text of ['available', '< 3', 'available <> 3', 'status == {"a":1}', 'total > "big"', 'a == b c']) {
      expect(() => parseCondition(text), text).toThrow(expect.objectContaining({ code: 'KEEL_ERR_REPLAY_BAD_CONDITION', message: expect.stringContaining("'<path> <op> <value>'") }));
    }
  });

  it('evaluates on plain states, with `available` derived for stock', () => {
    const stock = toPlain({ status: 'tracked', received: 10, reserved: 6, sold: 4, reservations: new Map([['o-1', { quantity: 6 }]]) });
    expect(holds(parseCondition('available <= 0'), stock)).toBe(true);
    expect(holds(parseCondition('available < 0'), stock)).toBe(false);
    expect(holds(parseCondition('reservations.o-1.quantity == 6'), stock)).toBe(true);
    expect(holds(parseCondition('missing.path == 1'), stock)).toBe(false);
    expect(holds(parseCondition('status > 1'), stock)).toBe(false);
  });
});

describe('plain forms and diffs', () => {
  it('turns Maps into sorted objects and bigints into strings, dropping undefined', () => {
    expect(toPlain({ b: new Map<string, unknown>([['z', 1], ['a', 2n]]), c: undefined, d: new Date('2026-12-03T00:00:00Z') })).toEqual({ b: { a: '2', z: 1 }, d: '2026-12-03T00:00:00.000Z' });
  });

  it('names added, removed and changed paths', () => {
    const before = toPlain({ status: 'pending', reservations: new Map([['o-1', { quantity: 2 }]]), lines: [{ q: 1 }] });
    const after = toPlain({ status: 'cancelled', reason: 'x', reservations: new Map(), lines: [{ q: 2 }] });
    expect(diffStates(before, after)).toEqual([
      { kind: 'changed', path: 'status', before: 'pending', after: 'cancelled' },
      { kind: 'removed', path: 'reservations.o-1', before: { quantity: 2 } },
      { kind: 'changed', path: 'lines.0.q', before: 1, after: 2 },
      { kind: 'added', path: 'reason', after: 'x' },
    ]);
    expect(diffStates(1, 1)).toEqual([]);
    expect(diffStates(null, { a: 1 })).toEqual([{ kind: 'changed', path: '', before: null, after: { a: 1 } }]);
  });
});

describe('revisions, positions and times people type', () => {
  it('parses whole numbers and ISO times with a zone, and refuses the rest with coded errors', () => {
    expect(parseRevision('12')).toBe(12n);
    expect(parsePosition(' 4711 ')).toBe(4711n);
    expect(parseTime('2026-12-03T10:15:00Z').toISOString()).toBe('2026-12-03T10:15:00.000Z');
    expect(parseTime('2026-12-03T10:15:00+01:00').toISOString()).toBe('2026-12-03T09:15:00.000Z');
    expect(parseTime('2026-12-03').toISOString()).toBe('2026-12-03T00:00:00.000Z');
    expect(parseBound('99', '--since')).toEqual({ position: 99n });
    expect(parseBound('2026-12-03T10:00:00Z', '--since')).toEqual({ time: new Date('2026-12-03T10:00:00Z') });
    expect(() => parseRevision('-1')).toThrow(expect.objectContaining({ code: 'KEEL_ERR_REPLAY_BAD_REVISION' }));
    expect(() => parseRevision('1.5')).toThrow(expect.objectContaining({ code: 'KEEL_ERR_REPLAY_BAD_REVISION' }));
    expect(() => parsePosition('abc')).toThrow(expect.objectContaining({ code: 'KEEL_ERR_REPLAY_BAD_POSITION' }));
    for (const bad of ['yesterday', '2026-12-03T10:15', '2026-13-45T00:00:00Z', '']) {
      expect(() => parseTime(bad), bad).toThrow(expect.objectContaining({ code: 'KEEL_ERR_REPLAY_BAD_TIME' }));
    }
  });
});
