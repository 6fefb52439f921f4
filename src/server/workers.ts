/**
 * The background work of roles `all` and `projector`: the order-fulfilment process manager and
 * every projection (leading, or standing by where another process leads).
 */
import type { CommerceCommands } from '../commands/front-door.js';
import { startFulfilment } from '../commands/fulfilment/index.js';
import type { CommandHandler } from '../commands/handler/index.js';
import { FakePaymentProvider } from '../commands/payment/index.js';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { ReadCache } from '../projections/cache/index.js';
import { createCacheChangeSink } from '../projections/cache/index.js';
import { startProjections } from '../projections/engine/index.js';
import { readModels } from '../projections/read-models/index.js';
import type { BackgroundWorker } from './lifecycle.js';
import type { Stores } from './stores.js';

export interface WorkerDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly stores: Stores;
  readonly handler: CommandHandler;
  readonly commerce: CommerceCommands;
  readonly readCache: ReadCache;
}

/**
 * Starts the workers, each pushed onto `started` as soon as it runs (so a failure starting the next
 * still stops it); the caller stops them in reverse order, before the stores close.
 */
export const startWorkers = async ({ config, logger, stores, handler, commerce, readCache }: WorkerDeps, started: BackgroundWorker[]): Promise<void> => {
  const { database, store } = stores;
  const fulfilment = await startFulfilment({
    store,
    db: database.db,
    handler,
    commerce,
    provider: new FakePaymentProvider({ latencyMs: config.paymentFakeLatencyMs, failureRate: config.paymentFakeFailureRate }),
    logger,
    clock: () => new Date(),
    reservationTtlMs: config.reservationTtlSeconds * 1000,
  });
  started.push(fulfilment);
  logger.info({ process: fulfilment.name, from: fulfilment.position().toString() }, 'process manager running');
  const projections = await startProjections({ handle: database, store, projections: readModels, sink: createCacheChangeSink(readCache), logger });
  started.push({ name: 'projections', stop: () => projections.stop() });
};
