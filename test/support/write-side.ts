/**
 * A real write side on a fresh PostgreSQL database (or PGlite), for integration tests; with
 * target 'esdb' the events go to the EventStoreDB adapter on EsdbProtocolDouble (an in-process
 * FAKE of EventStoreDB's protocol) while PostgreSQL keeps everything else (checkpoints, read models).
 */
import { sql } from 'kysely';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCommerceCommands, type CommerceCommands } from '../../src/commands/front-door.js';
import { createCommandHandler, type CommandHandler, type CommandHandlerOptions } from '../../src/commands/handler/command-handler.js';
import { openEventStore } from '../../src/eventstore/open.js';
import type { EventStore } from '../../src/eventstore/port.js';
import { openDatabase, type DatabaseHandle } from '../../src/platform/database.js';
import { createTestDatabase } from './database.js';
import { EsdbProtocolDouble } from './esdb-double/index.js';

export interface WriteSide {
  readonly handle: DatabaseHandle;
  readonly store: EventStore;
  readonly url: string | undefined;
  /** The protocol double behind the store, for target 'esdb'. */
  readonly double?: EsdbProtocolDouble;
  close(): Promise<void>;
}

/** 'esdb-server': the EventStoreDB adapter on the real server at EVENTSTORE_URL (PostgreSQL for the rest). */
export type WriteSideTarget = 'postgres' | 'pglite' | 'esdb' | 'esdb-server';

/** The targets a suite runs on: the three event store modes, plus a real EventStoreDB when EVENTSTORE_URL is set. */
export const storeTargets = (): WriteSideTarget[] => [
  'postgres',
  'esdb',
  'pglite',
  ...(process.env.EVENTSTORE_URL ? (['esdb-server'] as const) : []),
];

export const openWriteSide = async (label: string, target: WriteSideTarget = 'postgres'): Promise<WriteSide> => {
  if (target === 'pglite') {
    const dir = await mkdtemp(join(tmpdir(), `keel-${label}-`));
    const handle = await openDatabase({ dataDir: dir });
    const store = await openEventStore(handle);
    return { handle, store, url: undefined, close: async () => { await store.close(); await handle.close(); await rm(dir, { recursive: true, force: true }); } };
  }
  const double = target === 'esdb' ? await EsdbProtocolDouble.start() : undefined;
  const serverUrl = target === 'esdb-server' ? process.env.EVENTSTORE_URL : undefined;
  if (target === 'esdb-server' && !serverUrl) throw new Error('target esdb-server needs EVENTSTORE_URL');
  const database = await createTestDatabase(label);
  const handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
  // A short watchdog period: a quiet filtered subscription then checkpoints up to the head soon.
  const store = await openEventStore(handle, { eventStoreUrl: double?.url ?? serverUrl, esdb: { idleTimeoutMs: 200 } });
  return {
    handle,
    store,
    url: database.url,
    ...(double === undefined ? {} : { double }),
    close: async () => {
      await store.close();
      await handle.close();
      await database.drop();
      await double?.close();
    },
  };
};

/** A second "process": its own handler (own cache and queues) on the same store. */
export const commandsOn = (store: EventStore, options?: CommandHandlerOptions): { handler: CommandHandler; commerce: CommerceCommands } => {
  const handler = createCommandHandler(store, options);
  return { handler, commerce: createCommerceCommands(handler) };
};

/**
 * Every committed event, whether or not a subscriber may read it yet: readAll stops at the
 * horizon, which an unrelated open transaction (a checkpoint write, say) can briefly hold back.
 * EventStoreDB has no horizon: there readAll sees every committed event.
 */
export const countEvents = async (side: WriteSide): Promise<number> => {
  if (side.double !== undefined) {
    let count = 0;
    for await (const _ of side.store.readAll()) count += 1;
    return count;
  }
  const { rows } = await sql<{ n: string }>`select count(*)::text as n from keel_events`.execute(side.handle.db);
  return Number(rows[0]?.n);
};

export const at = (iso = '2026-11-23T10:00:00.000Z') => ({ actor: 'test', now: iso });
