/** The stores every role needs: the database (PostgreSQL or embedded PGlite) and the event store. */
import { sql } from 'kysely';
import type { EventStore } from '../eventstore/port.js';
import { openEventStore } from '../eventstore/open.js';
import type { Config } from '../platform/config.js';
import { openDatabase } from '../platform/database.js';
import type { DatabaseHandle } from '../platform/database.js';
import type { Logger } from '../platform/logger.js';
import type { Closers } from './lifecycle.js';

export interface Stores {
  readonly database: DatabaseHandle;
  readonly store: EventStore;
}

export const openStores = async (config: Config, logger: Logger, closers: Closers): Promise<Stores> => {
  const database = await openDatabase({
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }),
  });
  closers.add('the database', () => database.close());
  const store = await openEventStore(database, { eventStoreUrl: config.eventStoreUrl, log: (line) => logger.info(line) });
  closers.add('the event store', () => store.close());
  logger.info({ database: database.kind, eventStore: store.kind }, 'stores open');
  return { database, store };
};

/** The liveness probes of every role (GET /health; /ready adds its own): both stores answer. */
export const storeProbes = ({ database, store }: Stores) => ({
  database: () => sql`select 1`.execute(database.db),
  eventstore: () => store.headPosition(),
});
