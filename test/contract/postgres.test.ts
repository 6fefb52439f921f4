/** The contract on a real PostgreSQL (a fresh database per file), plus what only this adapter promises. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEventStore } from '../../src/eventstore/open.js';
import type { EventStore } from '../../src/eventstore/port.js';
import { openDatabase } from '../../src/platform/database.js';
import type { DatabaseHandle } from '../../src/platform/database.js';
import { createTestDatabase } from '../support/database.js';
import { eventsOf, follow, newEvents, uniqueStream } from '../support/event-store-fixtures.js';
import { describeEventIdUniqueness } from '../support/event-store-id-uniqueness.js';
import { describeBigPositions } from '../support/event-store-positions.js';
import { startTcpProxy } from '../support/event-store-tcp-proxy.js';
import type { TcpProxy } from '../support/event-store-tcp-proxy.js';
import { describeEventStoreContract } from './event-store-contract.js';

const openPostgres = async (label: string, options: Parameters<typeof openEventStore>[1] = {}) => {
  const database = await createTestDatabase(label);
  const handle = await openDatabase({ databaseUrl: database.url, dataDir: '/nonexistent' });
  const store = await openEventStore(handle, options);
  return {
    handle,
    store,
    database,
    cleanup: async () => {
      await store.close();
      await handle.close();
      await database.drop();
    },
  };
};

describeEventStoreContract('PostgreSQL adapter on node-postgres', () => openPostgres('contract'));

describeEventStoreContract('PostgreSQL adapter on node-postgres, without group commit', () =>
  openPostgres('contract_nobatch', { batching: false }),
);

describeBigPositions('node-postgres', () => openPostgres('positions'));

describeEventIdUniqueness('node-postgres', () => openPostgres('unique_ids'));

describe('PostgreSQL adapter across processes', () => {
  let writer: Awaited<ReturnType<typeof openPostgres>>;
  let reader: { handle: DatabaseHandle; store: EventStore };
  beforeAll(async () => {
    writer = await openPostgres('notify');
    const handle = await openDatabase({ databaseUrl: writer.database.url, dataDir: '/nonexistent' });
    // A poll interval far beyond the test's timeout: only a wake-up can bring the events.
    reader = { handle, store: await openEventStore(handle, { pollIntervalMs: 600_000 }) };
  });
  afterAll(async () => {
    await reader?.store.close();
    await reader?.handle.close();
    await writer?.cleanup();
  });

  it('wakes a subscriber on another connection pool through NOTIFY', async () => {
    const stream = uniqueStream('notify');
    const sub = follow(reader.store, { after: await reader.store.headPosition(), filter: { streamPrefixes: [stream] } });
    try {
      await sub.until((m) => m.kind === 'caught-up');
      const appended = await writer.store.append(stream, newEvents(2));
      await sub.until((m) => m.kind === 'event' && m.event.position === appended.position, 5_000);
    } finally {
      await sub.stop();
    }
    expect(sub.seen.filter((m) => m.kind === 'event')).toHaveLength(2);
  });
});

describe('PostgreSQL adapter losing its connection', () => {
  let direct: Awaited<ReturnType<typeof openPostgres>>;
  let proxy: TcpProxy;
  let handle: DatabaseHandle;
  let store: EventStore;
  beforeAll(async () => {
    direct = await openPostgres('dropped');
    proxy = await startTcpProxy(direct.database.url);
    handle = await openDatabase({ databaseUrl: proxy.url, dataDir: '/nonexistent' });
    store = await openEventStore(handle, { pollIntervalMs: 100 });
  });
  afterAll(async () => {
    await store?.close();
    await handle?.close();
    await proxy?.close();
    await direct?.cleanup();
  });

  it('reports dropped, resubscribes from the last delivered position, and misses nothing', async () => {
    const stream = uniqueStream('dropped');
    const before = await store.append(stream, newEvents(2));
    const sub = follow(store, { after: before.position - 2n, filter: { streamPrefixes: [stream] } });
    try {
      await sub.until((m) => m.kind === 'event' && m.event.position === before.position);
      await sub.until((m) => m.kind === 'caught-up');
      proxy.cut();
      const dropped = await sub.until((m) => m.kind === 'dropped');
      expect(dropped.at(-1)).toMatchObject({ kind: 'dropped', attempt: 1, error: { code: 'KEEL_ERR_EVENTSTORE_UNAVAILABLE' } });
      const during = await direct.store.append(stream, newEvents(3));
      proxy.resume();
      await sub.until((m) => m.kind === 'event' && m.event.position === during.position, 20_000);
      const after = await store.append(stream, newEvents(1));
      await sub.until((m) => m.kind === 'event' && m.event.position === after.position, 20_000);
    } finally {
      await sub.stop();
    }
    expect(eventsOf(sub.seen).map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
  });

  it('fails an append with EventStoreUnavailableError while the database is unreachable', async () => {
    proxy.cut();
    try {
      await expect(store.append(uniqueStream('unreachable'), newEvents(1))).rejects.toMatchObject({ code: 'KEEL_ERR_EVENTSTORE_UNAVAILABLE' });
    } finally {
      proxy.resume();
    }
    await expect(store.append(uniqueStream('reachable'), newEvents(1))).resolves.toMatchObject({ nextExpectedRevision: 0n });
  });

  // A read during a PostgreSQL restart surfaced as the driver's error, which the API answered
  // KEEL_ERR_INTERNAL: a checkout's price lookup then told buyers to give up instead of to retry.
  it('fails reads (a stream, $all, the head) with EventStoreUnavailableError while the database is unreachable', async () => {
    const stream = uniqueStream('read-unreachable');
    await store.append(stream, newEvents(1));
    const drain = async (events: AsyncIterable<unknown>): Promise<void> => {
      for await (const _ of events) void _;
    };
    proxy.cut();
    try {
      await expect(drain(store.readStream(stream))).rejects.toMatchObject({ code: 'KEEL_ERR_EVENTSTORE_UNAVAILABLE' });
      await expect(drain(store.readAll({ maxCount: 1 }))).rejects.toMatchObject({ code: 'KEEL_ERR_EVENTSTORE_UNAVAILABLE' });
      await expect(store.headPosition()).rejects.toMatchObject({ code: 'KEEL_ERR_EVENTSTORE_UNAVAILABLE' });
    } finally {
      proxy.resume();
    }
    await expect(drain(store.readStream(stream))).resolves.toBeUndefined();
  });
});
