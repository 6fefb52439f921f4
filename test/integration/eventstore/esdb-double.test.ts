/**
 * EsdbProtocolDouble (an in-process FAKE of EventStoreDB's gRPC protocol, not EventStoreDB) as the
 * real `@eventstore/db-client` sees it, beyond what the adapter's own tests exercise: stream
 * subscriptions, and both append paths (BatchAppend when ServerFeatures lists it, Append otherwise).
 */
import { EventStoreDBClient } from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import { createEsdbEventStore } from '../../../src/eventstore/esdb/index.js';
import { EsdbProtocolDouble } from '../../support/esdb-double/index.js';
import { collect, newEvents, uniqueStream } from '../../support/event-store-fixtures.js';

describe('the protocol double (fake) as the real client sees it', () => {
  it('serves stream subscriptions: the events after a revision, caught-up, then live ones', async () => {
    const double = await EsdbProtocolDouble.start();
    const client = EventStoreDBClient.connectionString(double.url);
    const store = createEsdbEventStore(double.url);
    try {
      const stream = uniqueStream('stream-sub');
      await store.append(stream, newEvents(3));
      await store.append(uniqueStream('elsewhere'), newEvents(2));
      const subscription = client.subscribeToStream(stream, { fromRevision: 0n });
      const seen: bigint[] = [];
      let caughtUp = false;
      subscription.on('caughtUp', () => (caughtUp = true));
      for await (const resolved of subscription) {
        seen.push(resolved.event?.revision ?? -1n);
        if (seen.length === 2) await store.append(stream, newEvents(1));
        if (seen.length === 3) break;
      }
      await subscription.unsubscribe();
      expect(seen).toEqual([1n, 2n, 3n]);
      expect(caughtUp).toBe(true);
    } finally {
      await client.dispose();
      await store.close();
      await double.close();
    }
  });


  it('BatchAppend when ServerFeatures offers it, Append otherwise', async () => {
    for (const batchAppend of [true, false]) {
      const double = await EsdbProtocolDouble.start({ batchAppend });
      const store = createEsdbEventStore(double.url);
      try {
        const stream = uniqueStream('path');
        await store.append(stream, newEvents(2));
        await store.append(stream, newEvents(1), { expectedRevision: 1n });
        await expect(store.append(stream, newEvents(1), { expectedRevision: 0n })).rejects.toMatchObject({ code: 'KEEL_ERR_WRONG_EXPECTED_REVISION', actual: 2n });
        expect((await collect(store.readStream(stream))).map((e) => e.revision)).toEqual([0n, 1n, 2n]);
        expect(double.methodCalls.has('BatchAppend')).toBe(batchAppend);
        expect(double.methodCalls.has('Append')).toBe(!batchAppend);
      } finally {
        await store.close();
        await double.close();
      }
    }
  });
});
