/**
 * The composition root: `startKeel` wires the whole system for a role. It opens the stores, builds
 * the write side (command handler, commerce commands) and the read cache, starts the background
 * workers (roles `all`, `projector`) and the HTTP API (roles `all`, `api`), and returns a handle
 * that shuts everything down in reverse order. `keel serve` and `npm start` only parse their
 * arguments and call it; tests run the whole server in-process through it.
 */
import { apiSettingsOf } from '../api/settings.js';
import { createCommerceCommands } from '../commands/front-door.js';
import { createCommandHandler, defaultBackoff } from '../commands/handler/index.js';
import { requireSecretBeyondLoopback } from '../platform/config.js';
import type { Config } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import type { Logger } from '../platform/logger.js';
import { createReadCache } from '../projections/cache/index.js';
import { startApi } from './api.js';
import { startObservability, startProjectorListener } from './observability.js';
import { Closers, exitOnSignals } from './lifecycle.js';
import type { BackgroundWorker } from './lifecycle.js';
import { openStores } from './stores.js';
import { startWorkers } from './workers.js';

export type { BackgroundWorker } from './lifecycle.js';

/**
 * api: the HTTP API only; projector: projections and the process manager, with a listener for
 * /health, /ready and /metrics on PROJECTOR_PORT; all: everything, on PORT.
 */
export type ServeRole = 'all' | 'api' | 'projector';

export interface StartOptions {
  /** Default `all`. */
  readonly role?: ServeRole;
  /** Defaults to a logger built from the configuration. */
  readonly logger?: Logger;
  /** Install SIGINT/SIGTERM handlers that close and exit the process (default true). */
  readonly handleSignals?: boolean;
  /** Give up on a graceful shutdown after this long and exit 1 (default 10 s). */
  readonly shutdownTimeoutMs?: number;
}

export interface KeelServer {
  /** Where the HTTP API listens, e.g. `http://127.0.0.1:4000` (`--role projector`: its listener on PROJECTOR_PORT). */
  readonly url: string;
  /** Stop accepting, stop background workers, close the event store and the database. Idempotent. */
  close(): Promise<void>;
}

export const startKeel = async (config: Config, options: StartOptions = {}): Promise<KeelServer> => {
  const logger = options.logger ?? createLogger(config);
  const role = options.role ?? 'all';
  // Before anything opens: in production without JWT_SECRET this stops startup with one line. A
  // projector serves no API and verifies no tokens: it needs no secret.
  const apiSettings = role === 'projector' ? undefined : apiSettingsOf(config);
  // Without JWT_SECRET anyone could mint tokens (the development secret is public): loopback only.
  if (apiSettings !== undefined) requireSecretBeyondLoopback(config);
  const closers = new Closers(logger);
  let url = '';
  try {
    await startObservability(config, role, closers);
    const stores = await openStores(config, logger, closers);
    const handler = createCommandHandler(stores.store, { backoff: { ...defaultBackoff, maxRetries: config.commandMaxRetries } });
    const commerce = createCommerceCommands(handler);
    // One cache for the projections' change sink and the API's reads and subscriptions (Redis when
    // configured, so notices reach every process; in-process otherwise, shared within this one).
    const readCache = await createReadCache({ redisUrl: config.redisUrl, keyPrefix: `${config.redisKeyPrefix}cache:`, logger });
    closers.add('the read cache', () => readCache.close());
    // Background workers stop in reverse order on shutdown, after the HTTP server stops accepting
    // and before the event store and database close.
    const background: BackgroundWorker[] = [];
    closers.add('the background workers', async () => {
      for (const worker of background.splice(0).reverse()) {
        await worker.stop().catch((error: unknown) => logger.error({ err: error }, `stopping ${worker.name} failed`));
      }
    });
    const deps = { config, logger, stores, handler, commerce, readCache };
    if (role !== 'api') await startWorkers(deps, background);
    if (apiSettings !== undefined) url = await startApi({ ...deps, settings: apiSettings }, closers);
    else url = await startProjectorListener(config, logger, stores, closers);
  } catch (error) {
    await closers.closeAll();
    throw error;
  }
  if (role === 'projector') logger.info({ url, role }, `Keel projector running; /health, /ready and /metrics on ${url}`);
  else logger.info({ url, role }, `Keel listening on ${url}`);

  const handleSignals = options.handleSignals ?? true;
  let removeSignalHandlers = (): void => {};
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await closers.closeAll();
      removeSignalHandlers();
      logger.info('Keel stopped');
    })();
    return closing;
  };
  if (handleSignals) removeSignalHandlers = exitOnSignals(logger, close, options.shutdownTimeoutMs ?? 10_000);
  return { url, close };
};
