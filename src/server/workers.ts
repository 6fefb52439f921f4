/**
 * The background work of roles `all` and `projector`: the order-fulfilment process manager and
 * every projection (leading, or standing by where another process leads).
 */
import type { CommerceCommands } from '../commands/front-door.js';
import { startFulfilment } from '../commands/fulfilment/index.js';
import type { CommandHandler } from '../commands/handler/index.js';
import { FakePaymentProvider, HttpPaymentProvider, type PaymentProvider } from '../commands/payment/index.js';
import { redactUrl, type Config } from '../platform/config.js';
import { createLeadership } from '../platform/leadership.js';
import type { Logger } from '../platform/logger.js';
import type { ReadCache } from '../projections/cache/index.js';
import { createCacheChangeSink } from '../projections/cache/index.js';
import { startProjections } from '../projections/engine/index.js';
import { readModels } from '../projections/read-models/index.js';
import type { BackgroundWorker } from './lifecycle.js';
import { sampleProjections } from './observability.js';
import type { Stores } from './stores.js';

export interface WorkerDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly stores: Stores;
  readonly handler: CommandHandler;
  readonly commerce: CommerceCommands;
  readonly readCache: ReadCache;
}

/** The provider at PAYMENT_PROVIDER_URL when it is set, otherwise the in-process fake. */
const paymentProviderFor = (config: Config): PaymentProvider =>
  config.paymentProviderUrl === undefined
    ? new FakePaymentProvider({ latencyMs: config.paymentFakeLatencyMs, failureRate: config.paymentFakeFailureRate })
    : new HttpPaymentProvider({ url: config.paymentProviderUrl, timeoutMs: config.paymentProviderTimeoutMs });

/**
 * Starts the workers, each pushed onto `started` as soon as it runs (so a failure starting the next
 * still stops it); the caller stops them in reverse order, before the stores close.
 */
export const startWorkers = async ({ config, logger, stores, handler, commerce, readCache }: WorkerDeps, started: BackgroundWorker[]): Promise<void> => {
  const { database, store } = stores;
  // Its own leadership (a dedicated connection): one process runs the reactions, others stand by.
  const leadership = createLeadership(database);
  const fulfilment = await startFulfilment({
    leadership,
    store,
    db: database.db,
    handler,
    commerce,
    provider: paymentProviderFor(config),
    logger,
    clock: () => new Date(),
    reservationTtlMs: config.reservationTtlSeconds * 1000,
  });
  started.push({
    name: fulfilment.name,
    stop: async () => {
      await fulfilment.stop();
      await leadership.close();
    },
  });
  const payments = config.paymentProviderUrl === undefined ? 'in-process fake' : redactUrl(config.paymentProviderUrl);
  logger.info({ process: fulfilment.name, from: fulfilment.position().toString(), paymentProvider: payments }, 'process manager running (leading, or standing by while another process leads)');
  const projections = await startProjections({ handle: database, store, projections: readModels, sink: createCacheChangeSink(readCache), logger });
  const stopSampling = sampleProjections(projections, store);
  started.push({
    name: 'projections',
    stop: () => {
      stopSampling();
      return projections.stop();
    },
  });
};
