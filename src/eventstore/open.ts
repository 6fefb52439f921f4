/**
 * Opens the configured EventStore adapter: EventStoreDB when an `eventStoreUrl` (EVENTSTORE_URL) is
 * given, otherwise the PostgreSQL adapter on the same database handle as the read models
 * (node-postgres or embedded PGlite). The rest of Keel only ever sees the port.
 */
import { ConfigError } from '../platform/config.js';
import { migrateToLatest } from '../platform/database.js';
import type { DatabaseHandle } from '../platform/database.js';
import type { EsdbEventStoreOptions } from './esdb/index.js';
import type { EventStore } from './port.js';
import { createPostgresEventStore, eventStoreMigrations } from './postgres/index.js';
import type { PostgresEventStoreOptions } from './postgres/index.js';

export interface OpenEventStoreOptions extends PostgresEventStoreOptions {
  /** EventStoreDB connection string (`esdb://…`); when set, PostgreSQL holds only the read models. */
  readonly eventStoreUrl?: string | undefined;
  /** Settings of the EventStoreDB adapter (subscription watchdog and resubscription backoff). */
  readonly esdb?: EsdbEventStoreOptions;
  /** Receives one line per migration result. */
  readonly log?: (line: string) => void;
}

export const openEventStore = async (handle: DatabaseHandle, options: OpenEventStoreOptions = {}): Promise<EventStore> => {
  if (options.eventStoreUrl !== undefined) {
    // The event-store tables are not created: events live in EventStoreDB.
    // Loaded on demand: the EventStoreDB client (gRPC, protobuf) is a tenth of a second to load.
    const { createEsdbEventStore } = await import('./esdb/index.js');
    try {
      return createEsdbEventStore(options.eventStoreUrl, options.esdb);
    } catch (error) {
      // The client's own parser is stricter than the URL check of the configuration.
      const reason = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
      throw new ConfigError(`Invalid configuration: EVENTSTORE_URL is not an EventStoreDB connection string: ${reason}`, ['EVENTSTORE_URL']);
    }
  }
  await migrateToLatest(handle.db, eventStoreMigrations, 'event_store', options.log);
  return createPostgresEventStore(handle, options);
};
