/**
 * The EventStore port's behaviour, written once and run against every adapter (PostgreSQL,
 * PGlite, and EventStoreDB through its protocol double or a real server). Tests only what the
 * port promises: nothing here may depend on how an adapter stores events or computes positions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuplicateEventIdError, WrongExpectedRevisionError } from '../../src/eventstore/errors.js';
import type { EventStore } from '../../src/eventstore/port.js';
import { collect, eventsOf, follow, newEvent, newEvents, uniqueStream, waitForHead } from '../support/event-store-fixtures.js';

export interface ContractSubject {
  readonly store: EventStore;
  cleanup(): Promise<void>;
}

const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
};

export const describeEventStoreContract = (name: string, factory: () => Promise<ContractSubject>): void => {
  describe(`EventStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: EventStore;
    beforeAll(async () => {
      subject = await factory();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.cleanup();
    });

    describe('append', () => {
      it('creates a stream with no_stream and returns the last revision and a bigint position', async () => {
        const stream = uniqueStream('create');
        const result = await store.append(stream, newEvents(3), { expectedRevision: 'no_stream' });
        expect(result.nextExpectedRevision).toBe(2n);
        expect(typeof result.position).toBe('bigint');
        const read = await collect(store.readStream(stream));
        expect(read.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
        expect(read.at(-1)?.position).toBe(result.position);
      });

      it('rejects no_stream on an existing stream, naming stream, expected and actual', async () => {
        const stream = uniqueStream('exists-already');
        await store.append(stream, newEvents(2));
        const error = await rejection(store.append(stream, [newEvent()], { expectedRevision: 'no_stream' }));
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ code: 'KEEL_ERR_WRONG_EXPECTED_REVISION', streamId: stream, expected: 'no_stream', actual: 1n });
      });

      it("accepts 'exists' only for an existing stream", async () => {
        const stream = uniqueStream('exists');
        const error = await rejection(store.append(stream, [newEvent()], { expectedRevision: 'exists' }));
        expect(error).toMatchObject({ streamId: stream, expected: 'exists', actual: 'no_stream' });
        await store.append(stream, [newEvent()]);
        await expect(store.append(stream, [newEvent()], { expectedRevision: 'exists' })).resolves.toMatchObject({ nextExpectedRevision: 1n });
      });

      it('accepts an exact revision and rejects a stale one', async () => {
        const stream = uniqueStream('exact');
        const first = await store.append(stream, newEvents(2), { expectedRevision: 'no_stream' });
        const second = await store.append(stream, [newEvent()], { expectedRevision: first.nextExpectedRevision });
        expect(second.nextExpectedRevision).toBe(2n);
        const error = await rejection(store.append(stream, [newEvent()], { expectedRevision: 1n }));
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ streamId: stream, expected: 1n, actual: 2n });
        const missing = await rejection(store.append(uniqueStream('exact-missing'), [newEvent()], { expectedRevision: 0n }));
        expect(missing).toMatchObject({ expected: 0n, actual: 'no_stream' });
      });

      it("appends with 'any' (the default) whatever the stream's state", async () => {
        const stream = uniqueStream('any');
        await store.append(stream, [newEvent()]);
        await expect(store.append(stream, newEvents(2), { expectedRevision: 'any' })).resolves.toMatchObject({ nextExpectedRevision: 2n });
      });

      it('is idempotent: re-sending the same events returns the original result and writes nothing', async () => {
        const stream = uniqueStream('idempotent');
        const events = newEvents(3);
        const original = await store.append(stream, events, { expectedRevision: 'no_stream' });
        const again = await store.append(stream, events, { expectedRevision: 'no_stream' });
        expect(again).toEqual(original);
        expect(await collect(store.readStream(stream))).toHaveLength(3);
      });

      it('rejects events whose ids partly overlap an earlier append', async () => {
        const stream = uniqueStream('overlap');
        const events = newEvents(2);
        await store.append(stream, events);
        const error = await rejection(store.append(stream, [events[1] ?? newEvent(), newEvent()]));
        expect(error).toBeInstanceOf(DuplicateEventIdError);
        expect(error).toMatchObject({ code: 'KEEL_ERR_DUPLICATE_EVENT_ID', streamId: stream });
        expect(await collect(store.readStream(stream))).toHaveLength(2);
      });
      // That an event id is unique across streams is a promise of the PostgreSQL adapter only
      // (test/support/event-store-id-uniqueness.ts): EventStoreDB has no index by event id.

      it('gives each concurrent caller its own result or its own conflict', async () => {
        const stream = uniqueStream('race');
        await store.append(stream, [newEvent()], { expectedRevision: 'no_stream' });
        const racers = Array.from({ length: 8 }, () => store.append(stream, [newEvent()], { expectedRevision: 0n }));
        const settled = await Promise.allSettled(racers);
        expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
        for (const s of settled) if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(WrongExpectedRevisionError);
        const bystanders = await Promise.all(Array.from({ length: 8 }, (_, i) => store.append(`${stream}-b${i}`, [newEvent()])));
        expect(bystanders.every((r) => r.nextExpectedRevision === 0n)).toBe(true);
      });

      it('keeps revisions dense and in position order under concurrent appends to one stream', async () => {
        const stream = uniqueStream('dense');
        await Promise.all(Array.from({ length: 20 }, () => store.append(stream, newEvents(2))));
        const read = await collect(store.readStream(stream));
        expect(read.map((e) => e.revision)).toEqual(Array.from({ length: 40 }, (_, i) => BigInt(i)));
        for (let i = 1; i < read.length; i++) expect((read[i]?.position ?? 0n) > (read[i - 1]?.position ?? 0n)).toBe(true);
      });

      it('stores large payloads and unicode names intact', async () => {
        const stream = uniqueStream('ünïcødé-流-🛒');
        const data = { text: 'x'.repeat(1_000_000), nested: { emoji: '🛒', list: Array.from({ length: 1000 }, (_, i) => i) } };
        const event = { ...newEvent('Größe-변경됨', data), schemaVersion: 3 };
        await store.append(stream, [event]);
        const [read] = await collect(store.readStream(stream));
        expect(read).toMatchObject({ id: event.id, streamId: stream, type: 'Größe-변경됨', schemaVersion: 3, data, metadata: event.metadata });
        expect(read?.createdAt).toBeInstanceOf(Date);
      });
    });

    describe('readStream', () => {
      const stream = uniqueStream('read');
      beforeAll(async () => {
        await store.append(stream, newEvents(1_205));
      });

      it('reads forwards through several pages', async () => {
        const read = await collect(store.readStream(stream));
        expect(read.map((e) => e.revision)).toEqual(Array.from({ length: 1_205 }, (_, i) => BigInt(i)));
      });

      it('reads backwards from the end, and from an inclusive revision', async () => {
        const all = await collect(store.readStream(stream, { direction: 'backwards' }));
        expect(all[0]?.revision).toBe(1_204n);
        expect(all.at(-1)?.revision).toBe(0n);
        const some = await collect(store.readStream(stream, { direction: 'backwards', fromRevision: 10n, maxCount: 3 }));
        expect(some.map((e) => e.revision)).toEqual([10n, 9n, 8n]);
      });

      it('reads forwards from an inclusive revision, up to maxCount', async () => {
        const some = await collect(store.readStream(stream, { fromRevision: 1_000n, maxCount: 600 }));
        expect(some).toHaveLength(205);
        expect(some[0]?.revision).toBe(1_000n);
        expect(await collect(store.readStream(stream, { maxCount: 0 }))).toEqual([]);
      });

      it('stops cleanly when the reader stops early, and reads on afterwards', async () => {
        let seen = 0;
        for await (const event of store.readStream(stream)) {
          seen += 1;
          if (event.revision === 700n) break;
        }
        expect(seen).toBe(701);
        const rest = await collect(store.readStream(stream, { fromRevision: 701n }));
        expect(rest.map((e) => e.revision)).toEqual(Array.from({ length: 504 }, (_, i) => BigInt(701 + i)));
      });

      it('with skipMetadata gives the same events, their metadata either intact or empty', async () => {
        const full = await collect(store.readStream(stream));
        const bare = await collect(store.readStream(stream, { skipMetadata: true }));
        expect(bare.map(({ metadata: _, ...rest }) => rest)).toEqual(full.map(({ metadata: _, ...rest }) => rest));
        for (const [i, event] of bare.entries()) expect([{}, full[i]?.metadata]).toContainEqual(event.metadata);
      });

      it('yields nothing for a stream that does not exist', async () => {
        expect(await collect(store.readStream(uniqueStream('missing')))).toEqual([]);
        expect(await collect(store.readStream(uniqueStream('missing'), { direction: 'backwards' }))).toEqual([]);
      });
    });

    describe('readAll', () => {
      const prefix = uniqueStream('all');
      let start: bigint;
      let last: bigint;
      beforeAll(async () => {
        start = await store.headPosition();
        for (let i = 0; i < 12; i++) await store.append(`${prefix}-a-${i}`, newEvents(50, i % 2 === 0 ? 'Even' : 'Odd'));
        const final = await store.append(`${prefix}_a%-0`, newEvents(3, 'Odd'));
        last = final.position;
        await waitForHead(store, last);
      });

      it('pages through everything after a position, in strictly increasing position order', async () => {
        const read = await collect(store.readAll({ after: start, filter: { streamPrefixes: [prefix] } }));
        expect(read).toHaveLength(603);
        for (let i = 1; i < read.length; i++) expect((read[i]?.position ?? 0n) > (read[i - 1]?.position ?? 0n)).toBe(true);
        expect(read.at(-1)?.position).toBe(last);
        const after = await collect(store.readAll({ after: read[99]?.position ?? 0n, maxCount: 10, filter: { streamPrefixes: [prefix] } }));
        expect(after.map((e) => e.id)).toEqual(read.slice(100, 110).map((e) => e.id));
      });

      it('filters by event type and by stream prefix (taken literally)', async () => {
        const even = await collect(store.readAll({ after: start, filter: { eventTypes: ['Even'], streamPrefixes: [prefix] } }));
        expect(even).toHaveLength(300);
        expect(even.every((e) => e.type === 'Even')).toBe(true);
        const literal = await collect(store.readAll({ after: start, filter: { streamPrefixes: [`${prefix}_a%`] } }));
        expect(literal.map((e) => e.streamId)).toEqual([`${prefix}_a%-0`, `${prefix}_a%-0`, `${prefix}_a%-0`]);
        expect(await collect(store.readAll({ after: start, filter: { eventTypes: ['NoSuchType'] } }))).toEqual([]);
      });
    });

    it('finds rare matches among many unmatched events, in readAll and in subscribe', async () => {
      const prefix = uniqueStream('needle');
      const from = await store.headPosition();
      const hay = async (): Promise<void> => {
        for (let i = 0; i < 6; i++) await store.append(`${prefix}-hay`, newEvents(1_000, 'Hay'));
      };
      await store.append(`${prefix}-n`, [newEvent('Needle')]);
      await hay();
      await hay();
      const last = await store.append(`${prefix}-n`, [newEvent('Needle')]);
      await waitForHead(store, last.position);
      const filter = { eventTypes: ['Needle'], streamPrefixes: [prefix] };
      const read = await collect(store.readAll({ after: from, filter }));
      expect(read.map((e) => e.revision)).toEqual([0n, 1n]);
      const sub = follow(store, { after: from, filter });
      try {
        const messages = await sub.until((m) => m.kind === 'caught-up');
        expect(eventsOf(messages).map((e) => e.revision)).toEqual([0n, 1n]);
      } finally {
        await sub.stop();
      }
    });

    describe('subscribe', () => {
      it('catches up, signals caught-up, then delivers live events in order', async () => {
        const prefix = uniqueStream('sub');
        const from = await store.headPosition();
        await store.append(`${prefix}-1`, newEvents(5));
        const sub = follow(store, { after: from, filter: { streamPrefixes: [prefix] }, batchSize: 2 });
        try {
          const catchUp = await sub.until((m) => m.kind === 'caught-up');
          expect(eventsOf(catchUp)).toHaveLength(5);
          const live = await store.append(`${prefix}-2`, newEvents(3));
          const rest = await sub.until((m) => m.kind === 'event' && m.event.position === live.position);
          const delivered = eventsOf([...catchUp, ...rest]);
          expect(delivered).toHaveLength(8);
          expect(delivered.map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n, 0n, 1n, 2n]);
          for (let i = 1; i < delivered.length; i++) expect((delivered[i]?.position ?? 0n) > (delivered[i - 1]?.position ?? 0n)).toBe(true);
        } finally {
          await sub.stop();
        }
      });

      it('advances its checkpoint past events that its filter does not match', async () => {
        const from = await store.headPosition();
        const sub = follow(store, { after: from, filter: { eventTypes: ['NeverAppended'] } });
        try {
          await sub.until((m) => m.kind === 'caught-up');
          const appended = await store.append(uniqueStream('unmatched'), newEvents(4, 'Other'));
          const messages = await sub.until((m) => m.kind === 'checkpoint' && m.position >= appended.position);
          expect(eventsOf(messages)).toEqual([]);
        } finally {
          await sub.stop();
        }
      });

      it('resumes after a checkpoint without repeating or skipping', async () => {
        const prefix = uniqueStream('resume');
        const from = await store.headPosition();
        await store.append(`${prefix}-1`, newEvents(6));
        const first = follow(store, { after: from, filter: { streamPrefixes: [prefix] } });
        const part = eventsOf(await first.until((m) => m.kind === 'event' && m.event.revision === 2n));
        await first.stop();
        const second = follow(store, { after: part.at(-1)?.position ?? from, filter: { streamPrefixes: [prefix] } });
        try {
          const rest = eventsOf(await second.until((m) => m.kind === 'caught-up'));
          expect([...part, ...rest].map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
        } finally {
          await second.stop();
        }
      });

      it('ends when its signal aborts, also while waiting for events', async () => {
        const sub = follow(store, { after: await store.headPosition() });
        await sub.until((m) => m.kind === 'caught-up');
        // The eager consumer is now waiting inside the subscription for the next message.
        sub.controller.abort();
        const ended = await Promise.race([sub.done.then(() => 'ended'), new Promise((r) => setTimeout(() => r('still running'), 5_000))]);
        expect(ended).toBe('ended');
      });
    });

    it('headPosition never goes backwards and reaches every appended position', async () => {
      const before = await store.headPosition();
      const appended = await store.append(uniqueStream('head'), [newEvent()]);
      expect(appended.position > before).toBe(true);
      await waitForHead(store, appended.position);
      expect((await store.headPosition()) >= before).toBe(true);
    });
  });
};
