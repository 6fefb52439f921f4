/**
 * The text of `keel events`, `keel replay` and `keel explain` (src/cli/replay-format.ts): diff
 * lines, the causation tree drawn with box-drawing characters, tables, and colour only when asked
 * for (a terminal without NO_COLOR): pure functions, no store.
 */
import { describe, expect, it } from 'vitest';
import {
  changeLine,
  changeLines,
  colourFor,
  compact,
  eventsTable,
  findingText,
  indexWarning,
  keyData,
  stepText,
  storyJson,
  storyText,
  summaryLine,
  treeRows,
} from '../../../src/cli/replay-format.js';
import type { EventView, RedecideFinding, Story, StoryNode } from '../../../src/replay/index.js';

const ESC = '\u001b[';

const view = (over: Partial<EventView> & Pick<EventView, 'id' | 'position' | 'type'>): EventView => ({
  streamId: 'order-o-1',
  revision: 0n,
  schemaVersion: 1,
  time: new Date('2026-12-03T10:00:00.000Z'),
  actor: 'alice',
  commandId: 'c-1',
  commandType: 'PlaceOrder',
  commandData: undefined,
  correlationId: 'c-1',
  causationId: 'c-1',
  data: {},
  metadata: {},
  ...over,
});

describe('diff lines', () => {
  it('added, removed and changed, with dotted paths and compact JSON values', () => {
    expect(changeLine({ kind: 'added', path: 'reason', after: 'payment failed' })).toBe('+ reason: "payment failed"');
    expect(changeLine({ kind: 'removed', path: 'reservations.o-1', before: { quantity: 2 } })).toBe('- reservations.o-1: {"quantity":2}');
    expect(changeLine({ kind: 'changed', path: 'status', before: 'pending', after: 'cancelled' })).toBe('~ status: "pending" → "cancelled"');
    expect(changeLine({ kind: 'changed', path: '', before: null, after: 3 })).toBe('~ (state): null → 3');
  });

  it('an event that changes nothing says so; lines are indented', () => {
    expect(changeLines([])).toEqual(['    (no change to the state)']);
    expect(changeLines([{ kind: 'added', path: 'a', after: 1 }], false, '  ')).toEqual(['  + a: 1']);
  });

  it('colours green, red and yellow only when asked', () => {
    const added = changeLine({ kind: 'added', path: 'a', after: 1 }, true);
    const removed = changeLine({ kind: 'removed', path: 'a', before: 1 }, true);
    const changed = changeLine({ kind: 'changed', path: 'a', before: 1, after: 2 }, true);
    expect(added).toBe(`${ESC}32m+ a: 1${ESC}39m`);
    expect(removed).toBe(`${ESC}31m- a: 1${ESC}39m`);
    expect(changed).toBe(`${ESC}33m~ a: 1 → 2${ESC}39m`);
    expect(changeLine({ kind: 'added', path: 'a', after: 1 }, false)).not.toContain(ESC);
  });

  it('a replay step: the event heading, then its diff', () => {
    const event = view({ id: 'e-1', position: 17n, type: 'OrderCancelled', revision: 1n, commandType: 'CancelOrder', commandId: 'c-9', actor: 'process:order-fulfilment' });
    const text = stepText({ index: 1, event, state: { status: 'cancelled' }, changes: [{ kind: 'changed', path: 'status', before: 'pending', after: 'cancelled' }] });
    expect(text).toBe(['#1 OrderCancelled  position 17  2026-12-03T10:00:00.000Z  by process:order-fulfilment  (CancelOrder c-9)', '    ~ status: "pending" → "cancelled"'].join('\n'));
    expect(stepText({ index: 1, event, state: null, changes: [] }, true)).toContain(ESC);
  });
});

describe('colour: a terminal, and never with NO_COLOR', () => {
  it.each([
    [{ isTTY: true }, {}, true],
    [{ isTTY: true }, { NO_COLOR: '1' }, false],
    [{ isTTY: true }, { NO_COLOR: '' }, true],
    [{ isTTY: false }, {}, false],
    [{}, {}, false],
  ])('stream %o, env %o → %s', (stream, env, expected) => {
    expect(colourFor(stream, env)).toBe(expected);
  });
});

describe('events', () => {
  it('compact JSON, cut with an ellipsis to the width asked', () => {
    expect(compact({ a: 1, b: 'x' })).toBe('{"a":1,"b":"x"}');
    expect(compact({ a: 1n })).toBe('{"a":"1"}');
    expect(compact('x'.repeat(100), 10)).toBe(`${'x'.repeat(8).padStart(9, '"')}…`);
    expect(compact('x'.repeat(100), 10)).toHaveLength(10);
  });

  it('a table with every id, and the data cut on a terminal', () => {
    const e = view({ id: 'e-1', position: 5n, type: 'OrderPlaced', data: { note: 'y'.repeat(200) } });
    const [header, row] = eventsTable([e], { dataWidth: 80 }).split('\n');
    expect(header).toMatch(/^POSITION {2}STREAM +REV {2}TIME +TYPE +ACTOR {2}COMMAND {2}CORRELATION {2}CAUSATION {2}DATA$/);
    expect(row).toMatch(/^5 +order-o-1 {2}0 +2026-12-03T10:00:00.000Z {2}OrderPlaced {2}alice {2}c-1 +c-1 +c-1 +\{"note":"y+…$/);
    expect(row?.slice(row.indexOf('{"note"'))).toHaveLength(80);
    expect(eventsTable([e]).split('\n')[1]).toContain(`"${'y'.repeat(200)}"}`);
  });
});

describe('explain', () => {
  const placed = view({ id: 'e-1', position: 10n, type: 'OrderPlaced', data: { orderId: 'o-1', total: 2000, placedAt: '2026-11-23T10:00:00.000Z' } });
  const reserved = view({ id: 'e-2', position: 11n, streamId: 'inventory-C', revision: 4n, type: 'StockReserved', actor: 'process:order-fulfilment', causationId: 'e-1', data: { sku: 'C', quantity: 4, expiresAt: '2026-11-23T10:15:00.000Z', reservedAt: '2026-11-23T10:00:00.000Z' } });
  const requested = view({ id: 'e-3', position: 12n, streamId: 'payment-o-1', type: 'PaymentRequested', actor: 'process:order-fulfilment', causationId: 'e-1', data: { amount: 2000 } });
  const failed = view({ id: 'e-4', position: 13n, streamId: 'payment-o-1', revision: 1n, type: 'PaymentFailed', actor: 'process:order-fulfilment', causationId: 'e-3', data: { reason: 'card declined' } });
  const swept = view({ id: 'e-5', position: 14n, revision: 1n, type: 'OrderCancelled', actor: 'process:order-fulfilment', causationId: 'sweep-1', data: { reason: 'expired' } });
  const roots: StoryNode[] = [
    { event: placed, children: [{ event: reserved, children: [] }, { event: requested, children: [{ event: failed, children: [] }] }] },
    { event: swept, children: [] },
  ];
  const story: Story = {
    subject: { kind: 'order', id: 'o-1', streamId: 'order-o-1' },
    events: [placed, reserved, requested, failed, swept],
    roots,
    state: { status: 'cancelled' },
    verdict: { status: 'cancelled', text: 'cancelled: payment declined: card declined (PaymentFailed at position 13)', cause: failed },
    deadlines: [{ sku: 'C', expiresAt: '2026-11-23T10:15:00.000Z', outcome: 'released', setBy: reserved }],
    scannedPastIndex: 0,
    indexNeverRan: false,
  };

  it('draws the causation tree: each child under its cause, ├─ for siblings that follow, └─ for the last', () => {
    expect(treeRows(roots).map((r) => r[0])).toEqual(['10', '├─ 11', '└─ 12', '   └─ 13', '14']);
  });

  it('key data: key=value, quoting only what needs it, without the event\'s own timestamps', () => {
    expect(keyData(reserved.data)).toBe('sku=C quantity=4 expiresAt=2026-11-23T10:15:00.000Z');
    expect(keyData(failed.data)).toBe('reason="card declined"');
    expect(keyData({ lines: [{ sku: 'C', quantity: 4 }] })).toBe('lines=[{"sku":"C","quantity":4}]');
    expect(keyData({ note: 'z'.repeat(200) }, 20)).toHaveLength(20);
  });

  it('the story: heading, aligned tree, and the verdict as the last line; --timeline in position order', () => {
    const lines = storyText(story).split('\n');
    expect(lines[0]).toBe('Order o-1: 5 event(s) in 3 stream(s)');
    expect(lines.slice(2, 8)).toEqual([
      'POSITION  STREAM@REV     TYPE              ACTOR                     DATA',
      '10        order-o-1@0    OrderPlaced       alice                     orderId=o-1 total=2000',
      '├─ 11     inventory-C@4  StockReserved     process:order-fulfilment  sku=C quantity=4 expiresAt=2026-11-23T10:15:00.000Z',
      '└─ 12     payment-o-1@0  PaymentRequested  process:order-fulfilment  amount=2000',
      '   └─ 13  payment-o-1@1  PaymentFailed     process:order-fulfilment  reason="card declined"',
      '14        order-o-1@1    OrderCancelled    process:order-fulfilment  reason=expired',
    ]);
    expect(lines.slice(8)).toEqual([
      '',
      'reservation of C until 2026-11-23T10:15:00.000Z: released (set by StockReserved at position 11)',
      '',
      'cancelled: payment declined: card declined (PaymentFailed at position 13)',
    ]);
    expect(storyText(story)).not.toContain(ESC);
    expect(storyText({ ...story, deadlines: [] }).split('\n').slice(8)).toEqual(['', 'cancelled: payment declined: card declined (PaymentFailed at position 13)']);
    const timeline = storyText(story, { timeline: true }).split('\n');
    expect(timeline.slice(3, 8).map((l) => l.split(/\s+/)[0])).toEqual(['10', '11', '12', '13', '14']);
  });

  it('JSON: events and the tree as eventJson, the verdict with its cause', () => {
    const json = storyJson(story);
    expect(json.events.map((e) => e.position)).toEqual(['10', '11', '12', '13', '14']);
    expect(json.roots[0]?.children[1]?.children[0]?.event.type).toBe('PaymentFailed');
    expect(json.verdict.cause?.id).toBe('e-4');
    expect(json.deadlines).toEqual([{ sku: 'C', expiresAt: '2026-11-23T10:15:00.000Z', outcome: 'released', setBy: expect.objectContaining({ id: 'e-2', position: '11' }) }]);
  });

  it('warns when the index lags or never ran', () => {
    expect(indexWarning({ scannedPastIndex: 0, indexNeverRan: false })).toBeUndefined();
    expect(indexWarning({ scannedPastIndex: 42, indexNeverRan: false })).toBe(
      'warning: the event index is 42 events behind; the rest was scanned: run a projector, `keel serve --role projector`',
    );
    expect(indexWarning({ scannedPastIndex: 900, indexNeverRan: true })).toMatch(/the event index has never run; the whole log was scanned \(900 events\)/);
  });
});

describe('redecide', () => {
  it('a differing command: stored and today\'s events, and the diff of their data', () => {
    const finding: RedecideFinding = {
      commandId: 'c-7',
      commandType: 'ReserveStock',
      firstRevision: 3n,
      lastRevision: 3n,
      position: 99n,
      verdict: 'different',
      recorded: [{ type: 'StockReserved', data: { quantity: 2 } }],
      decided: [{ type: 'StockReserved', data: { quantity: 3 } }],
      differences: [{ index: 0, recordedType: 'StockReserved', decidedType: 'StockReserved', changes: [{ kind: 'changed', path: 'quantity', before: 2, after: 3 }] }],
    };
    expect(findingText(finding).split('\n')).toEqual([
      'DIFFERENT: revision 3 (position 99)  ReserveStock c-7',
      '  stored:',
      '    StockReserved {"quantity":2}',
      '  today:',
      '    StockReserved {"quantity":3}',
      '  event 0 (StockReserved), stored → today:',
      '    ~ quantity: 2 → 3',
    ]);
    expect(
      summaryLine({ streamId: 'inventory-HOT', commands: 5, same: 3, different: 1, refusedNow: 1, invalidNow: 0, notRecorded: 0, findings: [] }),
    ).toBe('inventory-HOT: 5 command(s): 3 same, 1 different, 1 refused now, 0 invalid now, 0 not recorded');
  });
});
