/** The contract on embedded PGlite (a fresh data directory), plus what only this adapter promises. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEventStore } from '../../src/eventstore/open.js';
import type { EventStore } from '../../src/eventstore/port.js';
import { openDatabase } from '../../src/platform/database.js';
import type { DatabaseHandle } from '../../src/platform/database.js';
import { collect } from '../support/event-store-fixtures.js';
import { describeEventIdUniqueness } from '../support/event-store-id-uniqueness.js';
import { describeBigPositions } from '../support/event-store-positions.js';
import { describeEventStoreContract } from './event-store-contract.js';

const openPglite = async (): Promise<{ handle: DatabaseHandle; store: EventStore; cleanup(): Promise<void> }> => {
  const dir = await mkdtemp(join(tmpdir(), 'keel-pglite-'));
  const handle = await openDatabase({ dataDir: dir });
  const store = await openEventStore(handle);
  return {
    handle,
    store,
    cleanup: async () => {
      await store.close();
      await handle.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
};

describeEventStoreContract('PostgreSQL adapter on PGlite', openPglite);

describeBigPositions('PGlite', openPglite);

describeEventIdUniqueness('PGlite', openPglite);

describe('PGlite handle', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-pglite-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers NOTIFY to listen() handlers until they unlisten', async () => {
    const handle = await openDatabase({ dataDir: join(dir, 'listen') });
    const payloads: (string | undefined)[] = [];
    const unlisten = await handle.listen('keel_test', (payload) => payloads.push(payload));
    await sql`notify keel_test, 'one'`.execute(handle.db);
    await unlisten();
    await sql`notify keel_test, 'two'`.execute(handle.db);
    await handle.close();
    expect(payloads).toEqual(['one']);
  });

  it('keeps events and migrations across a reopen of the same data directory', async () => {
    const first = await openDatabase({ dataDir: dir });
    const store = await openEventStore(first);
    const appended = await store.append('reopen-1', [{ id: '0b0e9f7e-4a5d-4f8e-9a59-0e7d3c1b2a01', type: 'T', data: {}, metadata: {} }]);
    await store.close();
    await first.close();
    const second = await openDatabase({ dataDir: dir });
    const lines: string[] = [];
    const reopened = await openEventStore(second, { log: (line) => lines.push(line) });
    expect(lines).toEqual([]);
    const read = await collect(reopened.readStream('reopen-1'));
    expect(read.map((e) => e.position)).toEqual([appended.position]);
    const { rows } = await sql<{ n: string }>`select count(*)::text as n from keel_events`.execute(second.db);
    expect(rows[0]?.n).toBe('1');
    await reopened.close();
    await second.close();
  });
});
