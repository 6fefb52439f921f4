/** The API's settings, taken from the validated configuration (ConfigError without JWT_SECRET in production). */
import { requireJwtSecret } from '../platform/config.js';
import type { Config } from '../platform/config.js';
import type { ApiSettings } from './graphql/plugin.js';
import type { OverloadSettings } from './overload.js';

export const apiSettingsOf = (config: Config): ApiSettings & { readonly bodyLimitBytes: number; readonly overload: OverloadSettings } => ({
  production: config.nodeEnv === 'production',
  // GraphiQL only in development (a self-hosted page: src/api/graphiql.ts).
  graphiql: config.nodeEnv === 'development',
  jwtSecret: requireJwtSecret(config),
  rateLimitMax: config.rateLimitMax,
  rateLimitWindowMs: config.rateLimitWindowMs,
  queryMaxDepth: config.queryMaxDepth,
  queryMaxCost: config.queryMaxCost,
  consistencyWaitMs: config.consistencyWaitMs,
  redisKeyPrefix: config.redisKeyPrefix,
  bodyLimitBytes: config.bodyLimitBytes,
  tokenMaxLifetimeSeconds: config.tokenMaxLifetimeSeconds,
  wsMaxSubscriptionsPerSocket: config.wsMaxSubscriptionsPerSocket,
  wsMaxSocketsPerClient: config.wsMaxSocketsPerClient,
  // Load shedding (overload.ts), registered by app.ts on the root instance.
  overload: {
    maxInFlight: config.overloadMaxInFlight,
    maxEventLoopDelayMs: config.overloadMaxEventLoopDelayMs,
    maxEventLoopUtilization: config.overloadMaxEventLoopUtilization,
    maxHeapUsedBytes: config.overloadMaxHeapUsedBytes,
    sampleIntervalMs: config.overloadSampleIntervalMs,
    retryAfterSeconds: config.overloadRetryAfterSeconds,
  },
});
