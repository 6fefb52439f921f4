/**
 * The app factory: builds the fastify server with every feature plugin registered. `listen` is
 * the caller's business (src/cli/serve.ts), so tests use this same factory with `inject`.
 */
import { fastify } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { graphiqlPlugin } from './graphiql.js';
import { graphqlPlugin } from './graphql/plugin.js';
import type { ApiSettings } from './graphql/plugin.js';
import { healthPlugin } from './health.js';
import type { HealthCheck } from './health.js';
import type { ReadSide } from './read-side.js';
import { apiSecurityHeaders } from './security.js';
import type { ApiWriteSide } from './write-side.js';

export type { ApiSettings } from './graphql/plugin.js';

/** The GraphQL API's dependencies; without them the app serves only the health endpoints. */
export interface ApiDeps {
  readonly settings: ApiSettings & { readonly bodyLimitBytes: number };
  readonly write: ApiWriteSide;
  /** Absent until the read side is wired in: queries then answer KEEL_ERR_READ_SIDE_UNAVAILABLE. */
  readonly readSide?: ReadSide | undefined;
  /** Rate-limit counters (shared across processes); absent: in memory. */
  readonly redis?: Redis | undefined;
  /** `GET /ready`: database, event store, Redis reachable, projections not stalled. */
  readonly ready: HealthCheck;
  /** The edge's clock: mutations pass its `now` into commands. Default: the system clock. */
  readonly clock?: () => Date;
}

export interface AppDeps {
  readonly logger: FastifyBaseLogger;
  /** `GET /health` (liveness). */
  readonly health: HealthCheck;
  readonly api?: ApiDeps;
}

export const buildApp = (deps: AppDeps): FastifyInstance => {
  const api = deps.api;
  const app = fastify({
    loggerInstance: deps.logger,
    ...(api === undefined ? {} : { bodyLimit: api.settings.bodyLimitBytes }),
  });
  // Graceful close: a response sent once `close()` has begun tells the client to close its
  // connection. fastify only reaps keep-alive connections idle when it starts closing, so the
  // connection of a request then in flight would otherwise hold the close open (keepAliveTimeout).
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  // Every route's responses (404s and errors included): the API's set; GraphiQL's routes add helmet's.
  app.addHook('onRequest', apiSecurityHeaders());
  void app.register(healthPlugin, { check: deps.health });
  if (api !== undefined) {
    void app.register(healthPlugin, { check: api.ready, path: '/ready' });
    void app.register(graphqlPlugin, {
      settings: api.settings,
      write: api.write,
      readSide: api.readSide,
      redis: api.redis,
      clock: api.clock ?? (() => new Date()),
    });
    // Development only: in production `/graphiql` and its assets are 404.
    if (api.settings.graphiql) void app.register(graphiqlPlugin, { endpoint: '/graphql' });
  }
  // Later issues register the inspector here.
  return app;
};
