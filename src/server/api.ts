/**
 * The HTTP API of roles `all` and `api`: Redis for the rate limit, the read side (on the read
 * replica when DATABASE_READ_URL is set), token revocations, health and readiness, then listen.
 */
import { buildApp } from '../api/app.js';
import { probeAll, readReplicaProbe } from '../api/health.js';
import { createInspectorDeps } from '../api/inspector/index.js';
import { DEFAULT_STALL_SECONDS, createReadSide } from '../api/read-side-adapter.js';
import type { apiSettingsOf } from '../api/settings.js';
import { migrateTokenRevocations, openPolledTokenRevocations } from '../api/token-revocations.js';
import { createApiWriteSide } from '../api/write-side.js';
import type { CommerceCommands } from '../commands/front-door.js';
import type { CommandHandler } from '../commands/handler/index.js';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { openReadReplica } from '../platform/read-replica.js';
import { openRedis } from '../platform/redis.js';
import { createCacheChangeSink } from '../projections/cache/index.js';
import type { ReadCache } from '../projections/cache/index.js';
import { migrateProjections, projectionStatuses, readControl, watchProjections } from '../projections/engine/index.js';
import { readModels } from '../projections/read-models/index.js';
import type { Closers } from './lifecycle.js';
import { storeProbes, type Stores } from './stores.js';

/** How often a consistency token's wait reads the read replica's checkpoints (it cannot LISTEN). */
const REPLICA_POLL_MS = 50;

export interface ApiDeps {
  readonly config: Config;
  readonly settings: ReturnType<typeof apiSettingsOf>;
  readonly logger: Logger;
  readonly stores: Stores;
  readonly handler: CommandHandler;
  readonly commerce: CommerceCommands;
  readonly readCache: ReadCache;
}

/** Builds the app and listens; returns its URL. Everything it opens is added to `closers`. */
export const startApi = async (deps: ApiDeps, closers: Closers): Promise<string> => {
  const { config, logger, readCache } = deps;
  const { database, store } = deps.stores;
  // Redis (when configured) holds the API's rate-limit counters, shared by every API process.
  const redis = config.redisUrl === undefined
    ? undefined
    : await openRedis(config.redisUrl, { name: 'keel-api', onError: (error) => logger.debug({ err: error }, 'Redis connection error') });
  if (redis !== undefined) closers.add('Redis', () => redis.quit().then(() => undefined, () => redis.disconnect()));
  // The read side of the API: read models, the cache, and the projections' progress (consistency tokens).
  // With DATABASE_READ_URL they read the replica, checkpoints included (a token is reached when
  // the replica has replayed it). The replica is never migrated, written or LISTENed on (a hot
  // standby refuses LISTEN): its watch polls. Projection status (and the checkpoint a resumed
  // subscription waits for the replica to reach) is read on the primary.
  const replica = config.databaseReadUrl === undefined
    ? undefined
    : await openReadReplica(config.databaseReadUrl, { poolSize: config.databasePoolSize });
  if (replica !== undefined) {
    closers.add('the read replica', () => replica.close());
    logger.info('queries read the read replica (DATABASE_READ_URL)');
  }
  // The projections' control tables, on the primary: `--role api` may start before any projector.
  await migrateProjections(database, (line) => logger.info(line));
  const watch = await watchProjections(replica ?? database, replica === undefined ? {} : { listen: false, pollMs: REPLICA_POLL_MS });
  closers.add('the projection watch', () => watch.close());
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
  closers.add('the token revocations', () => tokenRevocations.close());
  const alive = storeProbes(deps.stores);
  const app = buildApp({
    trustProxy: config.trustProxy,
    logger,
    health: () => probeAll(alive),
    api: {
      settings: deps.settings,
      write: createApiWriteSide(deps.handler, deps.commerce),
      readSide,
      redis,
      tokenRevocations,
      // The inspector reads the event log and the projections' control tables on the primary;
      // a retried parked event's changes reach the cache and subscriptions as a batch's would.
      inspector: createInspectorDeps({ store, database, projections: readModels, sink: createCacheChangeSink(readCache) }),
      ready: () =>
        probeAll({
          ...alive,
          ...(redis === undefined ? {} : { redis: () => redis.ping() }),
          projections: () => readSide.checkHealthy(),
          ...(replica === undefined ? {} : { readReplica: readReplicaProbe(replica.db, DEFAULT_STALL_SECONDS) }),
        }),
    },
  });
  closers.add('the HTTP server', () => app.close());
  return app.listen({ port: config.port, host: config.host });
};
