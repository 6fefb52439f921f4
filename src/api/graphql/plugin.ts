/**
 * POST/GET `/graphql` (and graphql-ws on the same path, GraphiQL at `/graphiql` outside
 * production), as one encapsulated plugin: JWT verification, the per-client rate limit, the
 * schema with its resolvers, depth and cost limits, introspection off and masked errors in
 * production. Request order: authenticate (never throws) → rate limit (keyed by the token's subject,
 * else the IP) → refuse a bad token → parse, validate, execute.
 */
import fastifyJwt from '@fastify/jwt';
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import mercurius from 'mercurius';
import { KeelError } from '../../platform/errors.js';
import { authenticate, unauthenticated } from '../auth.js';
import type { Auth } from '../auth.js';
import type { ReadSide } from '../read-side.js';
import type { ApiWriteSide } from '../write-side.js';
import type { RequestScope } from './context.js';
import { createErrorFormatter } from './error-formatter.js';
import { buildResolvers, typeDefs } from './schema.js';
import { validationRules } from './validation-rules.js';

export interface ApiSettings {
  readonly production: boolean;
  readonly graphiql: boolean;
  readonly jwtSecret: string;
  readonly rateLimitMax: number;
  readonly rateLimitWindowMs: number;
  readonly queryMaxDepth: number;
  readonly queryMaxCost: number;
  readonly consistencyWaitMs: number;
  readonly redisKeyPrefix: string;
}

export interface GraphqlPluginOptions {
  readonly settings: ApiSettings;
  readonly write: ApiWriteSide;
  readonly readSide?: ReadSide | undefined;
  /** Rate-limit counters live here when given (shared by every API process), else in memory. */
  readonly redis?: Redis | undefined;
  readonly clock: () => Date;
}

const headerOf = (payload: unknown): unknown => {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const direct: unknown = Reflect.get(payload, 'authorization') ?? Reflect.get(payload, 'Authorization');
  if (direct !== undefined) return direct;
  const headers: unknown = Reflect.get(payload, 'headers');
  return typeof headers === 'object' && headers !== null ? Reflect.get(headers, 'authorization') : undefined;
};

export const graphqlPlugin: FastifyPluginAsync<GraphqlPluginOptions> = async (app, options) => {
  const { settings } = options;
  await app.register(fastifyJwt, {
    secret: settings.jwtSecret,
    sign: { algorithm: 'HS256' },
    verify: { algorithms: ['HS256'] },
  });

  // Verified once per request, before the rate limit (which keys on the subject) needs it.
  const auths = new WeakMap<FastifyRequest, Auth>();
  const authOf = (request: FastifyRequest): Auth => auths.get(request) ?? { kind: 'anonymous' };
  app.addHook('onRequest', async (request) => {
    auths.set(request, authenticate(app, request.headers.authorization));
  });

  await app.register(rateLimit, {
    max: settings.rateLimitMax,
    timeWindow: settings.rateLimitWindowMs,
    keyGenerator: (request: FastifyRequest) => {
      const auth = authOf(request);
      return auth.kind === 'user' ? `sub:${auth.subject}` : `ip:${request.ip}`;
    },
    ...(options.redis === undefined ? {} : { redis: options.redis }),
    nameSpace: `${settings.redisKeyPrefix}rate-limit:`,
    // Redis holds derived data only: while it is down requests go on, unlimited, rather than fail.
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new KeelError('KEEL_ERR_RATE_LIMITED', `Rate limit exceeded: at most ${context.max} requests per ${settings.rateLimitWindowMs} ms; retry in ${context.after}.`, {
        retryAfter: context.after,
      }),
  });

  app.addHook('preHandler', async (request) => {
    const auth = authOf(request);
    if (auth.kind === 'invalid') throw unauthenticated(auth.reason);
  });

  const scopeOf = (request: FastifyRequest): RequestScope => ({
    auth: authOf(request),
    now: options.clock().toISOString(),
    requestId: request.id,
  });
  const { resolvers, loaders } = buildResolvers({
    write: options.write,
    readSide: options.readSide,
    consistencyWaitMs: settings.consistencyWaitMs,
    production: settings.production,
  });

  await app.register(mercurius, {
    schema: typeDefs,
    resolvers,
    loaders,
    path: '/graphql',
    graphiql: settings.graphiql,
    queryDepth: settings.queryMaxDepth,
    // The cost rule needs the request's variables, so the rules are built per request; mercurius
    // then cannot cache parsed documents (it refuses function rules with its cache on).
    cache: false,
    validationRules: validationRules({ maxCost: settings.queryMaxCost, introspection: !settings.production }),
    errorFormatter: createErrorFormatter(settings.production),
    context: (request) => ({ keel: scopeOf(request) }),
    subscription: {
      // The token comes in connection_init: { "authorization": "Bearer <token>" }.
      // A bad token is refused by each subscription (UNAUTHENTICATED), see subscriptions.ts.
      onConnect: ({ payload }) => {
        const scope: RequestScope = { auth: authenticate(app, headerOf(payload)), now: options.clock().toISOString(), requestId: 'ws' };
        return { keel: scope };
      },
    },
  });
};
