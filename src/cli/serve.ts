/**
 * `keel serve` / `npm start`: open the database and the event store, build the app, listen, and
 * shut down gracefully on SIGINT/SIGTERM. `startKeel` returns a handle so tests can run the whole
 * server in-process and stop it.
 */
import { sql } from 'kysely';
import { buildApp } from '../api/app.js';
import { probeAll, readReplicaProbe } from '../api/health.js';
import { DEFAULT_STALL_SECONDS, createReadSide } from '../api/read-side-adapter.js';
import { apiSettingsOf } from '../api/settings.js';
import { migrateTokenRevocations, openPolledTokenRevocations } from '../api/token-revocations.js';
import { createApiWriteSide } from '../api/write-side.js';
import { createCommerceCommands } from '../commands/commerce.js';
import { startFulfilment } from '../commands/fulfilment/index.js';
import { createCommandHandler, defaultBackoff } from '../commands/handler/index.js';
import { FakePaymentProvider } from '../commands/payment/index.js';
import { openEventStore } from '../eventstore/open.js';
import type { EventStore } from '../eventstore/port.js';
import { requireSecretBeyondLoopback } from '../platform/config.js';
import type { Config } from '../platform/config.js';
import { openDatabase } from '../platform/database.js';
import { createLogger } from '../platform/logger.js';
import { openReadReplica } from '../platform/read-replica.js';
import { createCacheChangeSink, createReadCache } from '../projections/cache/index.js';
import { migrateProjections, projectionStatuses, readControl, startProjections, watchProjections } from '../projections/engine/index.js';
import { readModels } from '../projections/read-models/index.js';
import { openRedis } from '../platform/redis.js';
import type { Logger } from '../platform/logger.js';

/** A long-running worker started with the server and stopped before the stores close. */
export interface BackgroundWorker {
  readonly name: string;
  stop(): Promise<void>;
}

/** How often a consistency token's wait reads the read replica's checkpoints (it cannot LISTEN). */
const REPLICA_POLL_MS = 50;

/** api: HTTP only; projector: projections and the process manager, no HTTP; all: everything. */
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
  /** Where the HTTP API listens, e.g. `http://127.0.0.1:4000` (empty for `--role projector`). */
  readonly url: string;
  /** Stop accepting, stop background workers, close the event store and the database. Idempotent. */
  close(): Promise<void>;
}

export const startKeel = async (config: Config, options: StartOptions = {}): Promise<KeelServer> => {
  const logger = options.logger ?? createLogger(config);
  const role = options.role ?? 'all';
  // Before anything opens: in production without JWT_SECRET this stops startup with one line. A
  // projector serves no HTTP and verifies no tokens: it builds no app and needs no secret.
  const apiSettings = role === 'projector' ? undefined : apiSettingsOf(config);
  // Without JWT_SECRET anyone could mint tokens (the development secret is public): loopback only.
  if (apiSettings !== undefined) requireSecretBeyondLoopback(config);
  const closers: Array<{ readonly name: string; close(): Promise<void> }> = [];
  const background: BackgroundWorker[] = [];
  /** Closes in reverse order of opening; a failure is logged and the rest still close. */
  const closeAll = async (): Promise<void> => {
    for (const closer of closers.splice(0).reverse()) {
      await closer.close().catch((error: unknown) => logger.error({ err: error }, `closing ${closer.name} failed`));
    }
  };

  let url: string;
  try {
    const database = await openDatabase({
      dataDir: config.dataDir,
      poolSize: config.databasePoolSize,
      ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }),
    });
    closers.push({ name: 'the database', close: () => database.close() });
    const store: EventStore = await openEventStore(database, {
      eventStoreUrl: config.eventStoreUrl,
      log: (line) => logger.info(line),
    });
    closers.push({ name: 'the event store', close: () => store.close() });
    logger.info({ database: database.kind, eventStore: store.kind }, 'stores open');

    // Background workers stop in reverse order on shutdown, after the HTTP server stops accepting
    // and before the event store and database close.
    const handler = createCommandHandler(store, {
      backoff: { ...defaultBackoff, maxRetries: config.commandMaxRetries },
    });
    const commerce = createCommerceCommands(handler);
    // One cache for the projections' change sink and the API's reads and subscriptions (Redis when
    // configured, so notices reach every process; in-process otherwise, shared within this one).
    const readCache = await createReadCache({ redisUrl: config.redisUrl, keyPrefix: `${config.redisKeyPrefix}cache:`, logger });
    closers.push({ name: 'the read cache', close: () => readCache.close() });
    closers.push({
      name: 'the background workers',
      close: async () => {
        for (const worker of background.splice(0).reverse()) {
          await worker.stop().catch((error: unknown) => logger.error({ err: error }, `stopping ${worker.name} failed`));
        }
      },
    });
    if (role !== 'api') {
      const fulfilment = await startFulfilment({
        store,
        db: database.db,
        handler,
        commerce,
        provider: new FakePaymentProvider({
          latencyMs: config.paymentFakeLatencyMs,
          failureRate: config.paymentFakeFailureRate,
        }),
        logger,
        clock: () => new Date(),
        reservationTtlMs: config.reservationTtlSeconds * 1000,
      });
      background.push(fulfilment);
      logger.info({ process: fulfilment.name, from: fulfilment.position().toString() }, 'process manager running');
      const projections = await startProjections({ handle: database, store, projections: readModels, sink: createCacheChangeSink(readCache), logger });
      background.push({ name: 'projections', stop: () => projections.stop() });
    }

    url = '';
    if (apiSettings !== undefined) {
      // Redis (when configured) holds the API's rate-limit counters, shared by every API process.
      const redis = config.redisUrl === undefined
        ? undefined
        : await openRedis(config.redisUrl, { name: 'keel-api', onError: (error) => logger.debug({ err: error }, 'Redis connection error') });
      if (redis !== undefined) closers.push({ name: 'Redis', close: () => redis.quit().then(() => undefined, () => redis.disconnect()) });
      // The read side of the API: read models, the cache, and the projections' progress (consistency tokens).
      // With DATABASE_READ_URL they read the replica, checkpoints included (a token is reached when
      // the replica has replayed it). The replica is never migrated, written or LISTENed on (a hot
      // standby refuses LISTEN): its watch polls. Projection status (and the checkpoint a resumed
      // subscription waits for the replica to reach) is read on the primary.
      const replica = config.databaseReadUrl === undefined
        ? undefined
        : await openReadReplica(config.databaseReadUrl, { poolSize: config.databasePoolSize });
      if (replica !== undefined) {
        closers.push({ name: 'the read replica', close: () => replica.close() });
        logger.info('queries read the read replica (DATABASE_READ_URL)');
      }
      // The projections' control tables, on the primary: `--role api` may start before any projector.
      await migrateProjections(database, (line) => logger.info(line));
      const watch = await watchProjections(replica ?? database, replica === undefined ? {} : { listen: false, pollMs: REPLICA_POLL_MS });
      closers.push({ name: 'the projection watch', close: () => watch.close() });
      const readSide = createReadSide({
        db: (replica ?? database).db,
        cache: readCache,
        watch,
        status: (lagCountCap) => projectionStatuses(database, store, readModels, lagCountCap),
        ...(replica === undefined
          ? {}
          : { replica: { waitMs: config.consistencyWaitMs, primaryCheckpoint: async (name: string) => (await readControl(database.db, name))?.position ?? -1n } }),
      });
      if (config.jwtSecretIsDevelopmentDefault) {
        logger.warn('JWT_SECRET is not set: tokens are signed with the public development secret, so the API listens on loopback only (refused when NODE_ENV=production)');
      }
      // Revoked tokens: the table on the primary, polled every second into a Map (auth.ts checks it per request).
      await migrateTokenRevocations(database, (line) => logger.info(line));
      const tokenRevocations = await openPolledTokenRevocations({
        db: database.db,
        onPollError: (error) => {
          if (error === undefined) logger.info('token revocations are read again');
          else logger.warn({ err: error }, 'token revocations could not be read; the last known ones stay in force');
        },
      });
      closers.push({ name: 'the token revocations', close: () => tokenRevocations.close() });
      const app = buildApp({
        trustProxy: config.trustProxy,
        logger,
        health: () =>
          probeAll({
            database: () => sql`select 1`.execute(database.db),
            eventstore: () => store.headPosition(),
          }),
        api: {
          settings: apiSettings,
          write: createApiWriteSide(handler, commerce),
          readSide,
          redis,
          tokenRevocations,
          ready: () =>
            probeAll({
              database: () => sql`select 1`.execute(database.db),
              eventstore: () => store.headPosition(),
              ...(redis === undefined ? {} : { redis: () => redis.ping() }),
              projections: () => readSide.checkHealthy(),
              ...(replica === undefined ? {} : { readReplica: readReplicaProbe(replica.db, DEFAULT_STALL_SECONDS) }),
            }),
        },
      });
      closers.push({ name: 'the HTTP server', close: () => app.close() });
      url = await app.listen({ port: config.port, host: config.host });
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  if (role === 'projector') logger.info({ role }, 'Keel projector running (no HTTP)');
  else logger.info({ url, role }, `Keel listening on ${url}`);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await closeAll();
      removeSignalHandlers();
      logger.info('Keel stopped');
    })();
    return closing;
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing !== undefined) {
      logger.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    logger.info(`${signal} received: shutting down`);
    const timer = setTimeout(() => {
      logger.error('graceful shutdown timed out');
      process.exit(1);
    }, options.shutdownTimeoutMs ?? 10_000);
    timer.unref();
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const handleSignals = options.handleSignals ?? true;
  const removeSignalHandlers = (): void => {
    if (!handleSignals) return;
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  return { url, close };
};
