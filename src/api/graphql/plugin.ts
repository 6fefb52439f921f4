/**
 * POST/GET `/graphql` (and graphql-ws on the same path; GraphiQL at `/graphiql` in development
 * is src/api/graphiql.ts), as one encapsulated plugin: JWT verification, the per-client rate limit, the
 * schema with its resolvers, depth and cost limits, introspection off and masked errors in
 * production. Request order: authenticate (never throws) and pick the response's media type from
 * Accept (406 when it allows none, media-types.ts) → rate limit (keyed by the token's subject, else
 * the IP) → read the body (JSON or application/graphql, UTF-8; other types 415) → refuse a bad token
 * → the request's shape (request-shape.ts: parameters of the wrong type, 400) → cost limit
 * (QUERY_MAX_COST; an operation name that selects nothing and a subscription are refused here too)
 * → no NUL or invalid Unicode in the variables (only when there are variables) → parse, validate
 * (depth limit and string literals among the rules), execute. Subscriptions are held to the same limits per WebSocket message, and
 * to caps per socket and per client (ws-edge.ts).
 */
import fastifyJwt from '@fastify/jwt';
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { GraphQLError } from 'graphql';
import type { Redis } from 'ioredis';
import mercurius from 'mercurius';
import { KeelError } from '../../platform/errors.js';
import { metrics } from '../../platform/metrics.js';
import type { Span } from '../../platform/tracing.js';
import { authenticate, unauthenticated } from '../auth.js';
import { leasedRedisStore } from '../rate-limit-store.js';
import type { Auth } from '../auth.js';
import type { ReadSide } from '../read-side.js';
import type { ApiWriteSide } from '../write-side.js';
import type { RequestScope } from './context.js';
import { createErrorFormatter, toClientError } from './error-formatter.js';
import { graphql } from './graphql-runtime.js';
import { unsafeVariable } from './input-strings.js';
import { GRAPHQL_RESPONSE_TYPE, notAcceptable, responseMedia, useGraphqlBodyParsers } from './media-types.js';
import { registerOperationMetrics } from './operation-metrics.js';
import { getShape, postShape } from './request-shape.js';
import { registerRequestTracing } from './request-tracing.js';
import { buildResolvers, typeDefs } from './schema.js';
import { costGate, staticValidationRules } from './validation-rules.js';
import type { OperationCheck } from './validation-rules.js';
import { createWsEdge } from './ws-edge.js';
import type { SubscribePayload, WsRefusal } from './ws-edge.js';

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
  /** Longest accepted bearer-token lifetime (TOKEN_MAX_LIFETIME_SECONDS). */
  readonly tokenMaxLifetimeSeconds: number;
  readonly wsMaxSubscriptionsPerSocket: number;
  readonly wsMaxSocketsPerClient: number;
  /** BODY_LIMIT_BYTES: fastify's bodyLimit (app.ts) for HTTP, and the largest WebSocket message here. */
  readonly bodyLimitBytes: number;
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

/** Over HTTP: the operation the request names must exist, and be a query or a mutation. */
const httpOperation: OperationCheck = (operation, operationName) => {
  const refuse = (message: string): GraphQLError => new graphql.GraphQLError(message, { extensions: { code: 'KEEL_ERR_GRAPHQL_VALIDATION' } });
  if (operation === undefined) {
    return refuse(operationName === undefined ? 'The document has several operations: name the one to run (operationName).' : `The document has no operation named "${operationName}".`);
  }
  if (operation.operation === 'subscription') return refuse('Subscriptions are served over WebSocket (graphql-transport-ws on /graphql), not over HTTP.');
  return undefined;
};

/** Thrown like mercurius' own validation failure: HTTP 400 with the GraphQL errors inside. */
const validationFailure = (errors: readonly GraphQLError[]): Error =>
  Object.assign(new Error('Graphql validation error'), { code: 'MER_ERR_GQL_VALIDATION', statusCode: 400, errors });

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
  // Callback-style hooks (no promise per request); authenticate never throws. The response's media
  // type is chosen here, before anything can fail, so every answer (errors included) is sent as it.
  app.addHook('onRequest', (request, reply, done) => {
    request.keelAuth = authenticate(app, request.headers.authorization);
    const media = responseMedia(request.headers.accept);
    if (media === undefined) return done(notAcceptable());
    if (media === 'graphql-response') void reply.type(GRAPHQL_RESPONSE_TYPE);
    done();
  });

  const rateLimitRefusals = metrics.rateLimitRefusals.labels('graphql');
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
    errorResponseBuilder: (_request, context) => {
      rateLimitRefusals.inc();
      return new KeelError('KEEL_ERR_RATE_LIMITED', `Rate limit exceeded: at most ${context.max} requests per ${settings.rateLimitWindowMs} ms; retry in ${context.after}.`, {
        retryAfter: context.after,
      });
    },
  });

  // QUERY_MAX_COST depends on the variables, so it is not part of mercurius' cached validation: it
  // is checked here, before mercurius parses (validation-rules.ts). This covers HTTP; graphql-ws
  // carries subscriptions alone (no `fullWsTransport`), checked as their messages arrive (below).
  const rules = { maxCost: settings.queryMaxCost, maxDepth: settings.queryMaxDepth, introspection: !settings.production };
  // HTTP's gate also checks the operation a request selects (httpOperation); subscriptions, over
  // WebSocket, have their own gate (its texts are mostly others), with its own check (wsOperation).
  const httpCostErrors = costGate(rules, undefined, httpOperation);
  // Over WebSocket, a syntax error, an operation name that selects nothing, or a query or mutation
  // (mercurius runs subscriptions only there) would get mercurius' uncoded error (over HTTP the
  // formatter codes them): refused here, and the socket closed (4400) with the reason, as for a
  // malformed message (ws-edge.ts). Told apart by identity: the gate caches them per text and name.
  const wsUnrunnable = new WeakSet<GraphQLError>();
  const unrunnable = (message: string): GraphQLError => {
    const error = new graphql.GraphQLError(message, { extensions: { code: 'KEEL_ERR_GRAPHQL_VALIDATION' } });
    wsUnrunnable.add(error);
    return error;
  };
  const wsOperation: OperationCheck = (operation) => {
    if (operation !== undefined && operation.operation === 'subscription') return undefined;
    return unrunnable(operation === undefined ? 'operationName selects no operation of the document' : 'only subscriptions are served over WebSocket');
  };
  const wsSyntax = (_source: string, syntaxError: unknown): readonly GraphQLError[] => [unrunnable(syntaxError instanceof Error ? syntaxError.message : 'Syntax Error')];
  const costErrors = costGate(rules, undefined, wsOperation, wsSyntax);
  app.addHook('preHandler', (request, _reply, done) => {
    const auth = authOf(request);
    if (auth.kind === 'invalid') return done(unauthenticated(auth.reason));
    // A WebSocket's upgrade (a GET without a query) is the edge's (ws-edge.ts), message by message.
    if (Reflect.get(request, 'ws') === true) return done();
    // The shape (request-shape.ts): a POST's is a few typeof checks; a GET's variables are parsed.
    const shape = request.method === 'GET' ? getShape(request.query) : postShape(request.body);
    if (!shape.ok) return done(validationFailure([shape.error]));
    const { query, operationName, variables } = shape.params;
    const errors = httpCostErrors(app.graphql.schema, query, operationName, () => variables);
    if (errors.length > 0) return done(validationFailure(errors));
    // No NUL or invalid Unicode in a string variable (input-strings.ts): walked only when the
    // request has variables, so a known text without them stays one lookup.
    const unsafe = variables === undefined ? undefined : unsafeVariable(variables);
    done(unsafe === undefined ? undefined : validationFailure([unsafe]));
  });

  const clock = options.clock;
  /** The request's scope; its `now` is read from the clock when first asked (mutations), not on every query. */
  class Scope implements RequestScope {
    #now: string | undefined;
    constructor(
      readonly auth: Auth,
      readonly requestId: string,
      readonly span: Span | null,
    ) {}
    get now(): string {
      this.#now ??= clock().toISOString();
      return this.#now;
    }
  }
  const scopeOf = (request: FastifyRequest): RequestScope => new Scope(authOf(request), request.id, request.keelSpan);
  const { resolvers, loaders } = buildResolvers({
    write: options.write,
    readSide: options.readSide,
    consistencyWaitMs: settings.consistencyWaitMs,
    production: settings.production,
  });

  // The WebSocket edge (ws-edge.ts): each message within BODY_LIMIT_BYTES; a subscribe message
  // checked as it arrives, with its variables (which mercurius' hooks never get), by the same cost
  // gate as HTTP (every validation rule on first sight of a text) and the same input-string rule;
  // caps per socket and per client; the socket closed when its token expires.
  const checkSubscription = ({ query, variables, operationName }: SubscribePayload): GraphQLError | WsRefusal | undefined => {
    // mercurius would also take a parsed document (an object) as the query, unchecked.
    if (typeof query !== 'string') return toClientError(new KeelError('KEEL_ERR_GRAPHQL_VALIDATION', 'The subscription has no GraphQL query text.'), settings.production);
    const given = typeof variables === 'object' && variables !== null ? (variables as Record<string, unknown>) : undefined;
    const [costly] = costErrors(app.graphql.schema, query, typeof operationName === 'string' ? operationName : undefined, () => given);
    if (costly !== undefined && wsUnrunnable.has(costly)) return { close: costly.message };
    const refused = costly ?? (given === undefined ? undefined : unsafeVariable(given));
    return refused === undefined ? undefined : toClientError(refused, settings.production);
  };
  const edge = createWsEdge({
    maxMessageBytes: settings.bodyLimitBytes,
    maxSubscriptionsPerSocket: settings.wsMaxSubscriptionsPerSocket,
    maxSocketsPerClient: settings.wsMaxSocketsPerClient,
    production: settings.production,
    authenticate: (header) => authenticate(app, header),
    check: checkSubscription,
    clock: options.clock,
  });
  // mercurius' WebSocket route (@fastify/websocket's `wsHandler`), wrapped as it is added, so the
  // edge sees every socket before mercurius and every message before mercurius handles it.
  app.addHook('onRoute', (route) => edge.watchRoute(route));
  // On close, before the server stops accepting: every graphql-ws connection is closed with 1001
  // (going away), so a subscriber sees a clean close it may retry elsewhere, never a hang; requests
  // in flight still complete. (@fastify/websocket, registered by mercurius, would close them
  // without a code.)
  app.addHook('preClose', async () => {
    edge.closeAll(1001, 'server shutting down');
  });

  // keel_graphql_* (operation-metrics.ts) and, with tracing on, a span per request
  // (request-tracing.ts): both before mercurius adds its route.
  registerOperationMetrics(app);
  registerRequestTracing(app, '/graphql');

  // mercurius' JSON schemas for its routes are not applied: fastify's validator would coerce the
  // request's types (`"query": 1` read as "1") and refuse what the specification allows (a null
  // `extensions`); the preHandler checks the shape instead (request-shape.ts). Only the routes of
  // this plugin (mercurius') are affected.
  app.setValidatorCompiler(() => () => true);
  // UTF-8 JSON bodies only, no text/plain (media-types.ts); before mercurius, whose routes' context
  // copies this one's parsers when it is made.
  useGraphqlBodyParsers(app);
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
      // The token comes in connection_init: { "authorization": "Bearer <token>" }, verified by the
      // edge as the message arrives; the scope (`keel`) and the socket (`keelSocket`) are the
      // connection's. A bad token is refused by each subscription (UNAUTHENTICATED), see
      // subscriptions.ts.
      context: (socket) => edge.contextOf(socket),
    },
  });
  // mercurius runs no validation on a subscription's document: the edge checked its message when
  // it arrived (GraphQL's rules and the static ones on first sight of the text, the cost with its
  // variables, the input strings), so a bad field is refused like over HTTP rather than silently
  // never delivered; the verdict is applied here. A subscription-only hook: HTTP requests never
  // reach it.
  app.graphql.addHook('preSubscriptionExecution', (_schema, _document, context, id) => {
    edge.admit(context.keelSocket, id);
  });
};
