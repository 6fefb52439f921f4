/**
 * POST/GET `/graphql` (and graphql-ws on the same path; GraphiQL at `/graphiql` in development
 * is src/api/graphiql.ts), as one encapsulated plugin: JWT verification, the per-client rate limit, the
 * schema with its resolvers, depth and cost limits, introspection off and masked errors in
 * production. Request order: authenticate (never throws) → rate limit (keyed by the token's subject,
 * else the IP) → refuse a bad token → cost limit (QUERY_MAX_COST) → parse, validate (depth limit
 * among the rules), execute. Subscriptions are validated when they start.
 */
import fastifyJwt from '@fastify/jwt';
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { GraphQLError } from 'graphql';
import type { Redis } from 'ioredis';
import mercurius from 'mercurius';
import type { WebSocket } from 'ws';
import { KeelError } from '../../platform/errors.js';
import { authenticate, unauthenticated } from '../auth.js';
import { leasedRedisStore } from '../rate-limit-store.js';
import type { Auth } from '../auth.js';
import type { ReadSide } from '../read-side.js';
import type { ApiWriteSide } from '../write-side.js';
import type { RequestScope } from './context.js';
import { createErrorFormatter, toClientError } from './error-formatter.js';
import { buildResolvers, typeDefs } from './schema.js';
import { graphql } from './graphql-runtime.js';
import { costGate, documentRules, staticValidationRules } from './validation-rules.js';

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

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, verified once by the GraphQL plugin's onRequest hook (null before it). */
    keelAuth: Auth | null;
  }
}

const ANONYMOUS: Auth = { kind: 'anonymous' };

const fieldOf = (sent: unknown, key: string): unknown => (typeof sent === 'object' && sent !== null ? Reflect.get(sent, key) : undefined);

/** The variables the client sent (POST body, or GET query string with JSON variables), as mercurius reads them. */
const variablesOf = (method: string, sent: unknown): Record<string, unknown> | undefined => {
  let variables = fieldOf(sent, 'variables');
  if (method === 'GET' && typeof variables === 'string') {
    try {
      variables = JSON.parse(variables);
    } catch {
      variables = undefined;
    }
  }
  return typeof variables === 'object' && variables !== null ? (variables as Record<string, unknown>) : undefined;
};

/** Thrown like mercurius' own validation failure: HTTP 400 with the GraphQL errors inside. */
const validationFailure = (errors: readonly GraphQLError[]): Error =>
  Object.assign(new Error('Graphql validation error'), { code: 'MER_ERR_GQL_VALIDATION', statusCode: 400, errors });

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
  // A request decoration rather than a WeakMap: no ephemeron per request for the GC to trace.
  app.decorateRequest('keelAuth', null);
  const authOf = (request: FastifyRequest): Auth => request.keelAuth ?? ANONYMOUS;
  // Callback-style hooks (no promise per request); authenticate never throws.
  app.addHook('onRequest', (request, _reply, done) => {
    request.keelAuth = authenticate(app, request.headers.authorization);
    done();
  });

  await app.register(rateLimit, {
    max: settings.rateLimitMax,
    timeWindow: settings.rateLimitWindowMs,
    keyGenerator: (request: FastifyRequest) => {
      const auth = authOf(request);
      return auth.kind === 'user' ? `sub:${auth.subject}` : `ip:${request.ip}`;
    },
    // Leased from Redis in blocks (rate-limit-store.ts): no Redis round trip per request.
    ...(options.redis === undefined ? {} : { store: leasedRedisStore({ redis: options.redis, nameSpace: `${settings.redisKeyPrefix}rate-limit:` }) }),
    nameSpace: `${settings.redisKeyPrefix}rate-limit:`,
    // Redis holds derived data only: while it is down requests go on, unlimited, rather than fail.
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new KeelError('KEEL_ERR_RATE_LIMITED', `Rate limit exceeded: at most ${context.max} requests per ${settings.rateLimitWindowMs} ms; retry in ${context.after}.`, {
        retryAfter: context.after,
      }),
  });

  // QUERY_MAX_COST depends on the variables, so it is not part of mercurius' cached validation: it
  // is checked here, before mercurius parses (validation-rules.ts). This covers HTTP; graphql-ws
  // carries subscriptions alone (no `fullWsTransport`), validated by the hook at the end.
  const rules = { maxCost: settings.queryMaxCost, maxDepth: settings.queryMaxDepth, introspection: !settings.production };
  const costErrors = costGate(rules);
  app.addHook('preHandler', (request, _reply, done) => {
    const auth = authOf(request);
    if (auth.kind === 'invalid') return done(unauthenticated(auth.reason));
    const sent: unknown = request.method === 'GET' ? request.query : request.body;
    const query = fieldOf(sent, 'query');
    if (typeof query !== 'string') return done();
    const operationName = fieldOf(sent, 'operationName');
    const errors = costErrors(app.graphql.schema, query, typeof operationName === 'string' ? operationName : undefined, () => variablesOf(request.method, sent));
    done(errors.length > 0 ? validationFailure(errors) : undefined);
  });

  const clock = options.clock;
  /** The request's scope; its `now` is read from the clock when first asked (mutations), not on every query. */
  class Scope implements RequestScope {
    #now: string | undefined;
    constructor(
      readonly auth: Auth,
      readonly requestId: string,
    ) {}
    get now(): string {
      this.#now ??= clock().toISOString();
      return this.#now;
    }
  }
  const scopeOf = (request: FastifyRequest): RequestScope => new Scope(authOf(request), request.id);
  const { resolvers, loaders } = buildResolvers({
    write: options.write,
    readSide: options.readSide,
    consistencyWaitMs: settings.consistencyWaitMs,
    production: settings.production,
  });

  // On close, before the server stops accepting: every graphql-ws connection is closed with 1001
  // (going away), so a subscriber sees a clean close it may retry elsewhere, never a hang; requests
  // in flight still complete. (@fastify/websocket, registered by mercurius, would close them
  // without a code.) Connections are tracked from their connection_init.
  const sockets = new Set<WebSocket>();
  const track = (socket: WebSocket): Record<string, never> => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    return {};
  };
  app.addHook('preClose', async () => {
    for (const socket of sockets) socket.close(1001, 'server shutting down');
  });

  await app.register(mercurius, {
    schema: typeDefs,
    resolvers,
    loaders,
    path: '/graphql',
    // GraphiQL is Keel's own, self-hosted page (src/api/graphiql.ts, registered by app.ts):
    // mercurius' loads React and GraphiQL from unpkg.com.
    graphiql: false,
    // QUERY_MAX_DEPTH is a validation rule (validation-rules.ts), for queries and subscriptions.
    // Parsed and validated documents are cached per query text (mercurius' default LRU); the cost
    // rule, which needs the request's variables, runs in the preHandler above.
    validationRules: staticValidationRules(rules),
    errorFormatter: createErrorFormatter(settings.production),
    context: (request) => ({ keel: scopeOf(request) }),
    subscription: {
      context: track,
      // The token comes in connection_init: { "authorization": "Bearer <token>" }.
      // A bad token is refused by each subscription (UNAUTHENTICATED), see subscriptions.ts.
      onConnect: ({ payload }) => {
        const scope: RequestScope = { auth: authenticate(app, headerOf(payload)), now: options.clock().toISOString(), requestId: 'ws' };
        return { keel: scope };
      },
    },
  });
  // mercurius runs no validation on a subscription's document: GraphQL's rules and the static ones
  // (the depth limit among them) run here, so a bad field is refused like over HTTP rather than
  // silently never delivered. No cost: the hook gets no variables, and a subscription reads one
  // object (no pages). A subscription-only hook: HTTP requests never reach it.
  const subscriptionRules = documentRules(rules);
  app.graphql.addHook('preSubscriptionExecution', (schema, document) => {
    const [first] = graphql.validate(schema, document, subscriptionRules);
    if (first !== undefined) throw toClientError(first, settings.production);
  });
};
