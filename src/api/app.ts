/**
 * The app factory: builds the fastify server with every feature plugin registered. `listen` is
 * the caller's business (src/server/api.ts), so tests use this same factory with `inject`.
 */
import { randomUUID } from 'node:crypto';
import fastifyJwt from '@fastify/jwt';
import { fastify, LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { authenticate } from './auth.js';
import type { TokenPolicy } from './auth.js';
import { graphiqlPlugin } from './graphiql.js';
import { graphqlPlugin } from './graphql/plugin.js';
import type { ApiSettings } from './graphql/plugin.js';
import { healthPlugin } from './health.js';
import type { HealthCheck } from './health.js';
import { inspectorPlugin } from './inspector/index.js';
import { metricsRoute } from './metrics-route.js';
import type { InspectorDeps } from './inspector/index.js';
import { registerLoadShedding } from './overload.js';
import type { OverloadSettings } from './overload.js';
import type { ReadSide } from './read-side.js';
import { apiSecurityHeaders } from './security.js';
import { createMemoryTokenRevocations } from './token-revocations.js';
import type { TokenRevocations } from './token-revocations.js';
import type { ApiWriteSide } from './write-side.js';

export type { ApiSettings } from './graphql/plugin.js';

/** The GraphQL API's dependencies; without them the app serves only the health endpoints. */
export interface ApiDeps {
  /** `overload`: load shedding (overload.ts), OVERLOAD_* in the configuration. */
  readonly settings: ApiSettings & { readonly bodyLimitBytes: number; readonly overload: OverloadSettings };
  readonly write: ApiWriteSide;
  /** Absent until the read side is wired in: queries then answer KEEL_ERR_READ_SIDE_UNAVAILABLE. */
  readonly readSide?: ReadSide | undefined;
  /** Rate-limit counters (shared across processes); absent: in memory. */
  readonly redis?: Redis | undefined;
  /** `GET /ready`: database, event store, Redis reachable, projections not stalled. */
  readonly ready: HealthCheck;
  /** The edge's clock: mutations pass its `now` into commands. Default: the system clock. */
  readonly clock?: () => Date;
  /**
   * Revoked subjects, shared by every API process (src/server/api.ts: polled from the primary database).
   * Absent: kept in this process only (tests).
   */
  readonly tokenRevocations?: TokenRevocations | undefined;
  /**
   * The inspector's event store, database and projections (`/inspector`, admins only, apart from
   * the GraphQL read side). Absent: the page is served and its data routes answer 503.
   */
  readonly inspector?: InspectorDeps | undefined;
}

export interface AppDeps {
  readonly logger: FastifyBaseLogger;
  /** `GET /health` (liveness). */
  readonly health: HealthCheck;
  /** `GET /ready` without the API (the projector's listener); with it, `api.ready`. */
  readonly ready?: HealthCheck;
  readonly api?: ApiDeps;
  /**
   * fastify's `trustProxy` (TRUST_PROXY): whether `request.ip`, which the rate limiter keys anonymous
   * clients by, is read from X-Forwarded-For. Default false: the TCP peer.
   */
  readonly trustProxy?: boolean | number | string;
}

/**
 * TRUST_PROXY as fastify takes it. A hop count n trusts the n nearest hops (proxy-addr's meaning:
 * the client is the address n hops back); it is passed as a function because fastify treats a bare
 * number as "trust no hop".
 */
const trustProxyOf = (value: boolean | number | string): boolean | string | ((address: string, hop: number) => boolean) =>
  typeof value === 'number' ? (_address, hop) => hop < value : value;

export const buildApp = (deps: AppDeps): FastifyInstance => {
  const api = deps.api;
  const app = fastify({
    loggerInstance: deps.logger,
    // A request's id is also the correlation id of the commands it sends (mutation-result.ts):
    // unique across processes and restarts, never fastify's per-process counter ("req-1" in every
    // process), and never taken from the client.
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    // Every line a request logs names it twice: as the request and as the flow its commands start.
    // (A literal object: spreading fastify's bindings made pino's child three times as slow.)
    childLoggerFactory: (logger, bindings, options) => {
      const id: unknown = bindings.requestId;
      return logger.child({ requestId: id, correlationId: id }, options);
    },
    trustProxy: trustProxyOf(deps.trustProxy ?? false),
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
  void app.register(metricsRoute);
  if (api === undefined) {
    // No API, no token secret: nobody can prove to be an admin, so nobody sees the reasons. The
    // projector's listener (PROJECTOR_PORT) serves its probes and metrics this way.
    void app.register(healthPlugin, { check: deps.health });
    if (deps.ready !== undefined) void app.register(healthPlugin, { check: deps.ready, path: '/ready' });
  } else {
    // Load shedding (overload.ts): before every other plugin, so every route's context inherits its
    // hook, and after the security headers', so a 503 carries them. /health and /ready are exempt.
    registerLoadShedding(app, api.settings.overload);
    // On the root instance, so every plugin's `authenticate(app, header)` applies it (auth.ts).
    const policy: TokenPolicy = {
      maxLifetimeSeconds: api.settings.tokenMaxLifetimeSeconds,
      revocations: api.tokenRevocations ?? createMemoryTokenRevocations(),
    };
    app.decorate('keelTokenPolicy', policy);
    // /health and /ready with their own token verifier (the GraphQL plugin's is encapsulated in it):
    // an admin's bearer token shows each check's reason. A missing, bad or non-admin token shows the
    // public status only, never a 401: probes must not fail over a token.
    void app.register(async (instance) => {
      await instance.register(fastifyJwt, {
        secret: api.settings.jwtSecret,
        verify: { algorithms: ['HS256'] },
      });
      const showsReasons = (request: FastifyRequest): boolean => {
        if (request.headers.authorization === undefined) return false;
        const auth = authenticate(instance, request.headers.authorization);
        return auth.kind === 'user' && auth.roles.has('admin');
      };
      await instance.register(healthPlugin, { check: deps.health, showsReasons });
      await instance.register(healthPlugin, { check: api.ready, path: '/ready', showsReasons });
    });
    void app.register(graphqlPlugin, {
      settings: api.settings,
      write: api.write,
      readSide: api.readSide,
      redis: api.redis,
      clock: api.clock ?? (() => new Date()),
    });
    // The inspector: its page (public files, its own CSP) and its admin-only data routes.
    void app.register(inspectorPlugin, { jwtSecret: api.settings.jwtSecret, deps: api.inspector });
    // Development only: in production `/graphiql` and its assets are 404.
    if (api.settings.graphiql) void app.register(graphiqlPlugin, { endpoint: '/graphql' });
  }
  return app;
};
