/**
 * Replay debugging on real histories (written through the command handlers and the fulfilment
 * process manager) on every event store: PostgreSQL, embedded PGlite and the EventStoreDB adapter
 * on its protocol double (a FAKE of the server, driven by the real client), and on a real
 * EventStoreDB server too when EVENTSTORE_URL is set. Replays with the
 * expected diffs, the --to-revision / --at / --at-position / --until boundaries, --decide,
 * --redecide finding a planted decider change, explain naming the failing event with and without
 * the event index, and listing events by correlation id.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderAggregate } from '../../../src/commands/aggregates.js';
import { createCommandHandler } from '../../../src/commands/handler/index.js';
import { orderStreamId } from '../../../src/commands/order/index.js';
import { paymentStreamId } from '../../../src/commands/payment/index.js';
import type { EventStore, RecordedEvent } from '../../../src/eventstore/port.js';
import { startProjections } from '../../../src/projections/engine/index.js';
import { createEventIndex, eventIndexProjection, refsOf } from '../../../src/projections/read-models/index.js';
import {
  decideAt,
  explainOrder,
  explainStream,
  listEvents,
  parseCommandText,
  parseCondition,
  redecide,
  replayStream,
  type EventIndex,
  type EventLog,
  type ReplayStep,
} from '../../../src/replay/index.js';
import { collect } from '../../support/event-store-fixtures.js';
import { writeReplayHistories, type ReplayHistories } from '../../support/replay-histories.js';
import { openWriteSide, storeTargets, type WriteSide } from '../../support/write-side.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

/** The store with `append` refused: replay must never write. */
const readOnly = (store: EventStore): EventLog =>
  new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'append') return () => Promise.reject(new Error('replay tried to append'));
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

const scanAll = async (store: EventStore): Promise<RecordedEvent[]> => collect(store.readAll());

describe.each(storeTargets())('replay debugging on %s', (target) => {
  let side: WriteSide;
  let log: EventLog;
  let h: ReplayHistories;
  let index: EventIndex;

  beforeAll(async () => {
    side = await openWriteSide(`replay_${target}`, target);
    log = readOnly(side.store);
    // A real EventStoreDB keeps streams between runs: ids of this run's own there.
    h = await writeReplayHistories(side, target === 'esdb-server' ? `-${randomUUID().slice(0, 8)}` : '');
    const engine = await startProjections({ handle: side.handle, store: side.store, projections: [eventIndexProjection], logger: quiet });
    await engine.waitFor('event_index', await side.store.headPosition(), { timeoutMs: 30_000 });
    await engine.stop();
    index = createEventIndex(side.handle.db);
  }, 120_000);
  afterAll(async () => {
    await side.close();
  });

  it('records each command with the first event it produced, and only there', async () => {
    const events = await collect(side.store.readStream(orderStreamId(h.confirmed)));
    const placed = events[0];
    expect(placed?.metadata.commandType).toBe('PlaceOrder');
    expect(placed?.metadata.commandData).toMatchObject({ orderId: h.confirmed, customerId: 'c1', catalog: expect.any(Array), now: expect.any(String) });
    const byCommand = new Map<unknown, RecordedEvent[]>();
    for (const event of await scanAll(side.store)) byCommand.set(event.metadata.commandId, [...(byCommand.get(event.metadata.commandId) ?? []), event]);
    for (const group of byCommand.values()) {
      expect(group[0]?.metadata.commandData).toBeDefined();
      for (const later of group.slice(1)) expect(later.metadata.commandData).toBeUndefined();
    }
  });

  it('replays a declined order with the state diff after each event', async () => {
    const steps: ReplayStep[] = [];
    const outcome = await replayStream(log, orderStreamId(h.declined), { onStep: (step) => void steps.push(step) });
    expect(steps.map((s) => s.event.type)).toEqual(['OrderPlaced', 'OrderCancelled']);
    expect(steps[0]?.changes).toContainEqual({ kind: 'changed', path: 'status', before: 'none', after: 'pending' });
    expect(steps[0]?.changes).toContainEqual({ kind: 'added', path: 'total', after: 2000 });
    expect(steps[1]?.changes).toEqual([
      { kind: 'changed', path: 'status', before: 'pending', after: 'cancelled' },
      { kind: 'added', path: 'reason', after: 'payment failed: card_declined' },
      { kind: 'added', path: 'cancelledAt', after: expect.any(String) },
    ]);
    expect(outcome).toMatchObject({ aggregate: 'order', events: 2, revision: 1n, stop: { reason: 'end' }, state: { status: 'cancelled' } });
  });

  it('replays the hot SKU through the stock race: reservations come and go, never more than stock', async () => {
    const seen: { reserved: number; sold: number; received: number }[] = [];
    const outcome = await replayStream(log, h.hotStream, {
      onStep: ({ state }) => void seen.push(state as { reserved: number; sold: number; received: number }),
    });
    expect(seen.every((s) => s.reserved + s.sold <= s.received)).toBe(true);
    expect(outcome.state).toMatchObject({ status: 'tracked', received: 10, reserved: 0, sold: 10, reservations: {} });
    // A later page of the timeline: the same steps as the whole replay's, without diffing the ones before.
    const all: ReplayStep[] = [];
    await replayStream(log, h.hotStream, { onStep: (step) => void all.push(step) });
    const later: ReplayStep[] = [];
    await replayStream(log, h.hotStream, { stepsFrom: 5n, onStep: (step) => void later.push(step) });
    expect(later).toEqual(all.slice(5));
    const reservedStep = await replayStream(log, h.hotStream, { until: parseCondition('reserved >= 4') });
    expect(reservedStep.stop.reason).toBe('condition');
    if (reservedStep.stop.reason !== 'condition') return;
    expect(reservedStep.stop.step.event.type).toBe('StockReserved');
    expect(reservedStep.stop.command).toMatchObject({ type: 'ReserveStock', data: { sku: h.hotSku, quantity: 2 } });
    expect(reservedStep.stop.step.changes).toContainEqual({ kind: 'changed', path: 'reserved', before: 2, after: 4 });
  });

  it('stops at --until with the event, its command and the event that caused it', async () => {
    const outcome = await replayStream(log, orderStreamId(h.declined), { until: parseCondition('status == "cancelled"') });
    expect(outcome.conditionMet).toBe(true);
    if (outcome.stop.reason !== 'condition') throw new Error('no stop');
    const { step, command } = outcome.stop;
    expect(step.event.type).toBe('OrderCancelled');
    expect(command).toMatchObject({ type: 'CancelOrder', data: { orderId: h.declined, reason: 'payment failed: card_declined' } });
    const causes = await collect(listEvents(log, {}, undefined)).then((all) => all.filter((e) => e.id === step.event.causationId));
    expect(causes.map((e) => e.type)).toEqual(['PaymentFailed']);
    const never = await replayStream(log, orderStreamId(h.confirmed), { until: parseCondition('status == "cancelled"') });
    expect(never).toMatchObject({ conditionMet: false, stop: { reason: 'end' }, state: { status: 'confirmed' } });
  });

  it('honours --to-revision, --at and --at-position boundaries, and refuses ones outside the stream', async () => {
    const stream = orderStreamId(h.expired);
    const all = await collect(side.store.readStream(stream));
    const first = await replayStream(log, stream, { toRevision: 0n });
    expect(first).toMatchObject({ events: 1, revision: 0n, stop: { reason: 'to-revision' }, state: { status: 'pending' } });
    const last = await replayStream(log, stream, { toRevision: BigInt(all.length - 1) });
    expect(last).toMatchObject({ events: all.length, stop: { reason: 'end' }, state: { status: 'cancelled', reason: 'expired' } });
    await expect(replayStream(log, stream, { toRevision: BigInt(all.length) })).rejects.toMatchObject({ code: 'KEEL_ERR_REPLAY_BAD_REVISION' });

    const atFirst = await replayStream(log, stream, { atPosition: all[0]?.position ?? 0n });
    expect(atFirst).toMatchObject({ events: 1, stop: { reason: 'at-position' } });
    await expect(replayStream(log, stream, { atPosition: (all[0]?.position ?? 1n) - 1n })).rejects.toMatchObject({ code: 'KEEL_ERR_REPLAY_BAD_POSITION' });

    const firstAt = all[0]?.createdAt ?? new Date();
    const atTime = await replayStream(log, stream, { at: firstAt });
    expect(atTime.events).toBeGreaterThanOrEqual(1);
    expect(atTime.events).toBe(all.filter((e) => e.createdAt.getTime() <= firstAt.getTime()).length);
    const later = await replayStream(log, stream, { at: new Date(Date.now() + 60_000) });
    expect(later.events).toBe(all.length);
    await expect(replayStream(log, stream, { at: new Date(firstAt.getTime() - 1) })).rejects.toMatchObject({ code: 'KEEL_ERR_REPLAY_BAD_TIME' });
  });

  it('refuses unknown streams and stream kinds with coded errors', async () => {
    await expect(replayStream(log, orderStreamId('no-such-order'))).rejects.toMatchObject({ code: 'KEEL_ERR_STREAM_NOT_FOUND' });
    await expect(replayStream(log, 'basket-1')).rejects.toMatchObject({ code: 'KEEL_ERR_REPLAY_UNKNOWN_STREAM_KIND' });
    await expect(explainOrder(log, index, 'no-such-order')).rejects.toMatchObject({ code: 'KEEL_ERR_ORDER_NOT_FOUND' });
  });

  it('--decide answers what a command would do then or now, without appending', async () => {
    const confirmed = orderStreamId(h.confirmed);
    const cancel = parseCommandText(confirmed, JSON.stringify({ type: 'CancelOrder', data: { orderId: h.confirmed, reason: 'changed my mind' } }));
    const now = await decideAt(log, confirmed, cancel);
    expect(now.decision).toMatchObject({ kind: 'refused', code: 'KEEL_ERR_ORDER_NOT_PENDING' });
    const then = await decideAt(log, confirmed, cancel, { atRevision: 0n });
    expect(then.revision).toBe(0n);
    expect(then.decision).toMatchObject({ kind: 'events', events: [{ type: 'OrderCancelled', data: { orderId: h.confirmed, reason: 'changed my mind' } }], state: { status: 'cancelled' } });
    expect(() => parseCommandText(confirmed, '{"type":"CancelOrder",')).toThrow(expect.objectContaining({ code: 'KEEL_ERR_REPLAY_BAD_COMMAND' }));
    expect(() => parseCommandText(confirmed, '{"type":"ReserveStock","data":{}}')).toThrow(expect.objectContaining({ code: 'KEEL_ERR_REPLAY_BAD_COMMAND' }));
    await expect(decideAt(log, confirmed, cancel, { atRevision: 99n })).rejects.toMatchObject({ code: 'KEEL_ERR_REPLAY_BAD_REVISION' });
  });

  it('--redecide finds nothing on honest history, and finds a planted decider change', async () => {
    for (const stream of [orderStreamId(h.confirmed), orderStreamId(h.expired), h.hotStream, paymentStreamId(h.declined)]) {
      const summary = await redecide(log, stream);
      expect(summary, stream).toMatchObject({ different: 0, refusedNow: 0, invalidNow: 0, notRecorded: 0 });
      expect(summary.same).toBe(summary.commands);
    }
    // Yesterday's decider: it added a 1-cent fee to every order total. History written by it...
    const base = orderAggregate.decider;
    const yesterday = {
      ...orderAggregate,
      decider: {
        ...base,
        decide: (command: Parameters<typeof base.decide>[0], state: Parameters<typeof base.decide>[1]) =>
          base.decide(command, state).map((e) => (e.type === 'OrderPlaced' ? { ...e, data: { ...e.data, total: e.data.total + 1 } } : e)),
      },
    };
    const placed = await collect(side.store.readStream(orderStreamId(h.confirmed)));
    const planted = `r-planted-${randomUUID().slice(0, 8)}`;
    const commandId = randomUUID();
    const command = { type: 'PlaceOrder', data: { ...(placed[0]?.metadata.commandData as object), orderId: planted } };
    await createCommandHandler(side.store).handle(yesterday, orderStreamId(planted), command, { commandId, actor: 'test', now: '2026-11-23T10:00:00.000Z' });
    // ...differs from what today's decider makes of the same command.
    const summary = await redecide(log, orderStreamId(planted));
    expect(summary).toMatchObject({ commands: 1, same: 0, different: 1 });
    expect(summary.findings[0]).toMatchObject({ commandId, commandType: 'PlaceOrder', verdict: 'different', firstRevision: 0n });
    const total = (placed[0]?.data as { total: number }).total;
    expect(summary.findings[0]?.differences).toEqual([
      { index: 0, recordedType: 'OrderPlaced', decidedType: 'OrderPlaced', changes: [{ kind: 'changed', path: 'total', before: total + 1, after: total }] },
    ]);
  });

  it('explains each order in one story ending with why it is in its state', async () => {
    const declined = await explainOrder(log, index, h.declined);
    const failed = declined.events.find((e) => e.type === 'PaymentFailed');
    expect(failed).toBeDefined();
    expect(declined.verdict.text).toBe(`cancelled: payment declined: card_declined (PaymentFailed at position ${failed?.position})`);
    expect(declined.events.map((e) => e.type)).toEqual(['OrderPlaced', 'StockReserved', 'PaymentRequested', 'PaymentFailed', 'OrderCancelled', 'StockReleased']);
    expect(declined.roots.map((r) => r.event.type)).toEqual(['OrderPlaced']);
    // Past the index's checkpoint only what later tests appended is scanned, never the whole log.
    const checkpoint = (await index.checkpoint()) ?? -1n;
    expect(declined.scannedPastIndex).toBe((await collect(side.store.readAll({ after: checkpoint }))).length);

    const outOfStock = await explainOrder(log, index, h.outOfStock);
    expect(outOfStock.verdict.text).toMatch(/^cancelled: out of stock on B\S*: its reservation was refused \(in reaction to OrderPlaced at position \d+\)$/);
    expect(outOfStock.verdict.text).toContain(`on B${h.hotSku.slice(3)}:`);
    const expired = await explainOrder(log, index, h.expired);
    expect(expired.verdict.text).toMatch(/^cancelled: the reservation deadline 2026-11-23T10:15:00.000Z passed while the payment was still pending \(OrderCancelled at position \d+\); the payment authorized too late was refunded \(PaymentRefunded at position \d+\)$/);
    expect(expired.events.map((e) => e.type)).toContain('PaymentRefunded');
    expect(expired.deadlines).toEqual([expect.objectContaining({ sku: h.hotSku.replace('HOT', 'C'), expiresAt: '2026-11-23T10:15:00.000Z', outcome: 'released' })]);
    const confirmed = await explainOrder(log, index, h.confirmed);
    expect(confirmed.deadlines.map((d) => d.outcome)).toEqual(['committed', 'committed']);
    expect(confirmed.verdict.text).toMatch(/^confirmed: payment authorized \(PaymentAuthorized at position \d+\); stock committed for 2 of 2 line\(s\)$/);

    // The story is the same whether it came from the index or from a scan of the whole log.
    // An index that never ran (what createEventIndexReader answers then: no refs, no checkpoint).
    const neverRan: EventIndex = { lookup: () => Promise.resolve([]), checkpoint: () => Promise.resolve(undefined), refsOf };
    const unindexed = await explainOrder(log, neverRan, h.declined);
    expect(unindexed.indexNeverRan).toBe(true);
    expect(unindexed.events.map((e) => e.id)).toEqual(declined.events.map((e) => e.id));
  });

  it('finds every order of the race in the hot stream through the index, and explains a stream', async () => {
    const everything = await scanAll(side.store);
    for (const orderId of h.race) {
      const story = await explainOrder(log, index, orderId);
      const expected = everything.filter((e) => (e.data as { orderId?: string }).orderId === orderId || e.streamId === orderStreamId(orderId));
      expect(story.events.map((e) => e.position)).toEqual(expect.arrayContaining(expected.map((e) => e.position)));
      expect(story.verdict.status).toMatch(/^(confirmed|cancelled)$/);
    }
    const payment = await explainStream(log, index, paymentStreamId(h.declined));
    expect(payment.verdict.text).toMatch(/^failed: last changed by PaymentFailed at position \d+ by process:order-fulfilment$/);
  });

  it('lists events by correlation id (index or scan alike), by type and within a position window', async () => {
    const placed = (await collect(side.store.readStream(orderStreamId(h.declined))))[0];
    const correlationId = String(placed?.metadata.correlationId);
    const viaIndex = await collect(listEvents(log, { correlationId }, index));
    const viaScan = await collect(listEvents(log, { correlationId }));
    expect(viaIndex.map((e) => e.id)).toEqual(viaScan.map((e) => e.id));
    expect(viaIndex.map((e) => e.type)).toEqual(['OrderPlaced', 'StockReserved', 'PaymentRequested', 'PaymentFailed', 'OrderCancelled', 'StockReleased']);
    const everything = await scanAll(side.store);
    const [from, to] = [everything[3]?.position ?? 0n, everything[7]?.position ?? 0n];
    const window = await collect(listEvents(log, { since: { position: from }, until: { position: to } }));
    expect(window.map((e) => e.position)).toEqual(everything.slice(3, 8).map((e) => e.position));
    const reserved = await collect(listEvents(log, { types: ['StockReserved'], streamPrefix: h.hotStream }));
    expect(reserved.length).toBe(everything.filter((e) => e.type === 'StockReserved' && e.streamId === h.hotStream).length);
    await expect(collect(listEvents(log, { stream: 'order-none' }))).rejects.toMatchObject({ code: 'KEEL_ERR_STREAM_NOT_FOUND' });
  });
});
