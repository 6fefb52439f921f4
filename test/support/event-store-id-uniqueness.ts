/**
 * A promise of the PostgreSQL adapter (both drivers) beyond the port's contract: an event id is
 * unique in the whole store, so reusing one in another stream is refused. EventStoreDB keeps no
 * index by event id (its idempotency looks only at the stream appended to), so the shared contract
 * promises only the same-stream case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuplicateEventIdError } from '../../src/eventstore/errors.js';
import type { EventStore } from '../../src/eventstore/port.js';
import { collect, newEvents, uniqueStream } from './event-store-fixtures.js';

interface Opened {
  readonly store: EventStore;
  cleanup(): Promise<void>;
}

export const describeEventIdUniqueness = (name: string, open: () => Promise<Opened>): void => {
  describe(`event ids unique across streams: ${name}`, () => {
    let opened: Opened;
    beforeAll(async () => {
      opened = await open();
    });
    afterAll(async () => {
      await opened?.cleanup();
    });

    it('refuses an event id already stored in another stream', async () => {
      const events = newEvents(2);
      const stream = uniqueStream('unique');
      await opened.store.append(stream, events);
      const [first] = events;
      if (first === undefined) throw new Error('no event');
      await expect(opened.store.append(uniqueStream('unique-other'), [first])).rejects.toBeInstanceOf(DuplicateEventIdError);
      expect(await collect(opened.store.readStream(stream))).toHaveLength(2);
    });
  });
};
