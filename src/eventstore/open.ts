/**
 * Opens the configured EventStore adapter. Today that is always the PostgreSQL adapter, on the
 * same database handle as the read models (node-postgres or embedded PGlite).
 */
import { migrateToLatest } from '../platform/database.js';
import type { DatabaseHandle } from '../platform/database.js';
import type { EventStore } from './port.js';
import { createPostgresEventStore, eventStoreMigrations } from './postgres/index.js';
import type { PostgresEventStoreOptions } from './postgres/index.js';

export interface OpenEventStoreOptions extends PostgresEventStoreOptions {
  /** Receives one line per migration result. */
  readonly log?: (line: string) => void;
}

export const openEventStore = async (handle: DatabaseHandle, options: OpenEventStoreOptions = {}): Promise<EventStore> => {
  // Seam: when EVENTSTORE_URL is configured, the EventStoreDB adapter is to be chosen here, before
  // (and instead of) the PostgreSQL migration; the rest of Keel only ever sees the port.
  await migrateToLatest(handle.db, eventStoreMigrations, 'event_store', options.log);
  return createPostgresEventStore(handle, options);
};
