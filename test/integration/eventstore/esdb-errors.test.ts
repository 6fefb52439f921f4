/**
 * How the EventStoreDB adapter reports what EventStoreDB refuses, against EsdbProtocolDouble (an
 * in-process FAKE of EventStoreDB's gRPC protocol, driven by the real client): deleted and
 * tombstoned streams (written with the client's own deleteStream / tombstoneStream, which the
 * double serves), an oversized append, a server that cannot be reached, and an idempotent re-send
 * answered without a position.
 */
import { EventStoreDBClient } from '@eventstore/db-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEsdbEventStore } from '../../../src/eventstore/esdb/index.js';
import type { EventStore } from '../../../src/eventstore/port.js';
import { EsdbProtocolDouble } from '../../support/esdb-double/index.js';
import { collect, newEvent, newEvents, uniqueStream } from '../../support/event-store-fixtures.js';

describe('EventStoreDB adapter errors on the protocol double (fake)', () => {
  let double: EsdbProtocolDouble;
  let store: EventStore;
  let client: EventStoreDBClient;
  beforeAll(async () => {
    double = await EsdbProtocolDouble.start();
    store = createEsdbEventStore(double.url);
    client = EventStoreDBClient.connectionString(double.url);
  });
  afterAll(async () => {
    await client?.dispose();
    await store?.close();
    await double?.close();
  });

  it('a soft-deleted stream reads as missing, and the next append re-creates it with revisions continuing', async () => {
    const stream = uniqueStream('soft');
    await store.append(stream, newEvents(2));
    await client.deleteStream(stream);
    expect(await collect(store.readStream(stream))).toEqual([]);
    const again = await store.append(stream, [newEvent()], { expectedRevision: 'no_stream' });
    expect(again.nextExpectedRevision).toBe(2n);
    expect((await collect(store.readStream(stream))).map((e) => e.revision)).toEqual([2n]);
  });

  it('a tombstoned stream fails reads and appends with KEEL_ERR_STREAM_DELETED', async () => {
    const stream = uniqueStream('tomb');
    await store.append(stream, newEvents(1));
    await client.tombstoneStream(stream);
    await expect(collect(store.readStream(stream))).rejects.toMatchObject({ code: 'KEEL_ERR_STREAM_DELETED', streamId: stream });
    await expect(store.append(stream, [newEvent()])).rejects.toMatchObject({ code: 'KEEL_ERR_STREAM_DELETED', streamId: stream });
    // The tombstone is a system event: readAll and subscriptions never show it.
    expect((await collect(store.readAll())).some((e) => e.type.startsWith('$'))).toBe(false);
  });

  it('an append beyond the server maximum fails with KEEL_ERR_APPEND_TOO_LARGE and writes nothing', async () => {
    const stream = uniqueStream('large');
    const big = { ...newEvent('Big', { text: 'x'.repeat(1_100_000) }) };
    await expect(store.append(stream, [big])).rejects.toMatchObject({ code: 'KEEL_ERR_APPEND_TOO_LARGE' });
    expect(await collect(store.readStream(stream))).toEqual([]);
  });

  it('fails with KEEL_ERR_EVENTSTORE_UNAVAILABLE when no server answers', async () => {
    const gone = await EsdbProtocolDouble.start();
    const url = gone.url;
    await gone.close();
    const orphan = createEsdbEventStore(url);
    try {
      await expect(orphan.append(uniqueStream('gone'), newEvents(1))).rejects.toMatchObject({ code: 'KEEL_ERR_EVENTSTORE_UNAVAILABLE' });
      await expect(orphan.headPosition()).rejects.toMatchObject({ code: 'KEEL_ERR_EVENTSTORE_UNAVAILABLE' });
    } finally {
      await orphan.close();
    }
  });
});

describe('EventStoreDB adapter: server answers it copes with (protocol double, fake)', () => {
  it('an idempotent re-send answered without a position still returns the original position', async () => {
    for (const batchAppend of [true, false]) {
      const double = await EsdbProtocolDouble.start({ batchAppend, idempotentPosition: 'none' });
      const store = createEsdbEventStore(double.url);
      try {
        const events = newEvents(3);
        const stream = uniqueStream('quirk');
        const original = await store.append(stream, events, { expectedRevision: 'no_stream' });
        await expect(store.append(stream, events, { expectedRevision: 'no_stream' })).resolves.toEqual(original);
        await expect(store.append(stream, events)).resolves.toEqual(original);
      } finally {
        await store.close();
        await double.close();
      }
    }
  });
});
