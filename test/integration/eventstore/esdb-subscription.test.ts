/**
 * Subscriptions of the EventStoreDB adapter under failure, against EsdbProtocolDouble (an
 * in-process FAKE of EventStoreDB's gRPC protocol driven by the real client; not EventStoreDB):
 * dropped connections, a stalled connection, and a quiet filtered subscription.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEsdbEventStore } from '../../../src/eventstore/esdb/index.js';
import type { EventStore, SubscriptionMessage } from '../../../src/eventstore/port.js';
import { EsdbProtocolDouble } from '../../support/esdb-double/index.js';
import { collect, eventsOf, follow, newEvents, uniqueStream } from '../../support/event-store-fixtures.js';

const until = async (what: string, check: () => boolean, ms = 15_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const droppedOf = (messages: readonly SubscriptionMessage[]) => messages.filter((m) => m.kind === 'dropped');

describe('EventStoreDB adapter subscriptions on the protocol double (fake)', () => {
  let double: EsdbProtocolDouble;
  const stores: EventStore[] = [];
  const open = (idleTimeoutMs: number): EventStore => {
    const store = createEsdbEventStore(double.url, { idleTimeoutMs, retryBaseMs: 20, retryMaxMs: 200 });
    stores.push(store);
    return store;
  };
  beforeAll(async () => {
    double = await EsdbProtocolDouble.start();
  });
  afterEach(async () => {
    double.stall(false);
    for (const store of stores.splice(0)) await store.close();
  });
  afterAll(async () => {
    await double.close();
  });

  it.each([
    ['a stream prefix', (stream: string) => ({ streamPrefixes: [stream] })],
    ['an event type', (stream: string) => ({ eventTypes: [`Type-${stream}`] })],
  ])('survives three forced drops in a row without losing or repeating an event (filter on %s)', async (_kind, filterOf) => {
    // A long idle timeout: only the dropped connections can cause a resubscription here.
    const store = open(600_000);
    const stream = uniqueStream('drops');
    const batch = (count: number) => newEvents(count, `Type-${stream}`);
    await store.append(stream, batch(5));
    const sub = follow(store, { filter: filterOf(stream) });
    try {
      await sub.until((m) => m.kind === 'caught-up');
      for (let drop = 1; drop <= 3; drop++) {
        await until('a live subscription', () => double.subscriptionCount > 0);
        expect(double.dropConnections()).toBeGreaterThan(0);
        const dropped = await sub.until((m) => m.kind === 'dropped');
        expect(dropped.at(-1)).toMatchObject({ kind: 'dropped', error: { code: 'KEEL_ERR_EVENTSTORE_UNAVAILABLE' } });
        // Written while the subscription is down: it must resume right after what it delivered.
        await store.append(stream, batch(3));
      }
      const last = await store.append(stream, batch(2));
      await sub.until((m) => m.kind === 'event' && m.event.position === last.position);
    } finally {
      await sub.stop();
    }
    expect(droppedOf(sub.seen)).toHaveLength(3);
    const delivered = eventsOf(sub.seen);
    expect(delivered.map((e) => e.revision)).toEqual(Array.from({ length: 16 }, (_, i) => BigInt(i)));
    expect(new Set(delivered.map((e) => e.id)).size).toBe(16);
    expect(delivered.map((e) => e.id)).toEqual((await collect(store.readStream(stream))).map((e) => e.id));
  });

  it('the idle watchdog resubscribes a stalled subscription from its last delivered position', async () => {
    const store = open(200);
    const stream = uniqueStream('stall');
    await store.append(stream, newEvents(2));
    const sub = follow(store, { filter: { streamPrefixes: [stream] } });
    try {
      await sub.until((m) => m.kind === 'caught-up');
      double.stall(true); // the open call stays open but sends nothing more
      const during = await store.append(stream, newEvents(3));
      const dropped = await sub.until((m) => m.kind === 'dropped');
      expect(dropped.at(-1)).toMatchObject({ kind: 'dropped', error: { code: 'KEEL_ERR_EVENTSTORE_UNAVAILABLE', message: expect.stringContaining('stalled') } });
      await sub.until((m) => m.kind === 'event' && m.event.position === during.position);
      const after = await store.append(stream, newEvents(1));
      await sub.until((m) => m.kind === 'event' && m.event.position === after.position);
    } finally {
      await sub.stop();
    }
    expect(eventsOf(sub.seen).map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
  });

  it('a quiet filtered subscription checkpoints past unmatched events and is not taken for stalled', async () => {
    // A watchdog period far above the delivery time even on a loaded machine: a false "stalled"
    // needs a matching event to stay undelivered for two whole periods.
    const store = open(1_000);
    const sub = follow(store, { after: await store.headPosition(), filter: { eventTypes: ['Wanted'] } });
    try {
      await sub.until((m) => m.kind === 'caught-up');
      const other = await store.append(uniqueStream('quiet'), newEvents(3, 'Unwanted'));
      await sub.until((m) => m.kind === 'checkpoint' && m.position >= other.position);
      // Several idle periods more: the watchdog keeps probing and finds nothing to deliver.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const wanted = await store.append(uniqueStream('quiet'), newEvents(1, 'Wanted'));
      await sub.until((m) => m.kind === 'event' && m.event.position === wanted.position);
    } finally {
      await sub.stop();
    }
    expect(droppedOf(sub.seen)).toEqual([]);
    expect(eventsOf(sub.seen).map((e) => e.type)).toEqual(['Wanted']);
  });

  it("never shows EventStoreDB's system events (the double's log starts with some)", async () => {
    const store = open(600_000);
    const head = await store.headPosition();
    const all = await collect(store.readAll());
    expect(all.every((e) => !e.type.startsWith('$') && !e.streamId.startsWith('$'))).toBe(true);
    expect(double.log.all.some((e) => e.type.startsWith('$'))).toBe(true);
    const sub = follow(store, {});
    try {
      await sub.until((m) => m.kind === 'caught-up');
    } finally {
      await sub.stop();
    }
    expect(eventsOf(sub.seen).map((e) => e.id)).toEqual(all.filter((e) => e.position <= head).map((e) => e.id));
  });
});
