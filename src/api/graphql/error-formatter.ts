/**
 * Every error a client sees goes through here. Each gets `extensions.code`, a code of the registry
 * (src/platform/errors.ts): a KeelError keeps its code (and its details, e.g. `field`); GraphQL
 * syntax and schema errors become KEEL_ERR_GRAPHQL_VALIDATION, bad variable values
 * KEEL_ERR_VALIDATION naming the field; anything unexpected KEEL_ERR_INTERNAL, logged with its
 * stack and, in production, masked to a bare message (no stack, no SQL, no schema suggestions).
 * Subscriptions go through the same classification: errors refused at start, raised by a running
 * subscription's source (`subscriptionError`) and raised while resolving a pushed value (this
 * formatter, called by mercurius with the connection's context).
 */
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { ExecutionResult, GraphQLError, GraphQLFormattedError } from 'graphql';
import type { MercuriusContext } from 'mercurius';
import { isConnectionError } from '../../eventstore/postgres/index.js';
import { ERROR_CODES, KeelError } from '../../platform/errors.js';
import type { ErrorCode } from '../../platform/errors.js';
import { graphql } from './graphql-runtime.js';
import { GRAPHQL_RESPONSE_TYPE, responseMedia } from './media-types.js';
import { noteErrorCodes } from './operation-metrics.js';

/** HTTP status of a request refused before execution, by code (executed requests answer 200). */
const STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  KEEL_ERR_BODY_TOO_LARGE: 413,
  KEEL_ERR_RATE_LIMITED: 429,
  KEEL_ERR_INTERNAL: 500,
  KEEL_ERR_READ_SIDE_UNAVAILABLE: 503,
};

const isErrorCode = (value: unknown): value is ErrorCode => typeof value === 'string' && value in ERROR_CODES;

interface Classified {
  readonly code: ErrorCode;
  readonly message: string;
  readonly extra: Readonly<Record<string, unknown>>;
  readonly status?: number;
  /**
   * GraphQL's, fastify's or mercurius' own wording, which quotes what the client sent (`got invalid
   * value { reason: "…" }`, `found String "…"`, `non-integer value: "…"`): personal data, maybe. The
   * client gets it; the log gets the code and the field only.
   */
  readonly quotesInput?: boolean;
}

const propertyOf = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null ? Reflect.get(value, key) : undefined;

/** `Variable "$input" got invalid value "x" at "input.price"; …` → the field it names. */
const variableField = (message: string): string | undefined => {
  const variable = /^Variable "\$([A-Za-z_]\w*)"/.exec(message)?.[1];
  if (variable === undefined) return undefined;
  const at = / at "([^"]+)"/.exec(message)?.[1];
  if (at !== undefined) return at;
  const missing = /Field "([A-Za-z_]\w*)" of required type/.exec(message)?.[1];
  const unknown = /Field "([A-Za-z_]\w*)" is not defined by type/.exec(message)?.[1];
  const field = missing ?? unknown;
  return field === undefined ? variable : `${variable}.${field}`;
};

/**
 * GraphQL's "Did you mean …?" sentences (they name schema types, fields, arguments and enum
 * values), wherever they are in a message: several errors' messages may be joined into one. Each
 * starts with " Did you mean " and ends at its "?" (GraphQL names cannot contain one).
 */
const SUGGESTIONS = / Did you mean [^?]*\?/g;
const withoutSuggestions = (message: string, production: boolean): string =>
  production && message.includes(' Did you mean ') ? message.replace(SUGGESTIONS, '') : message;

const classify = (error: GraphQLError, production: boolean, wrapperStatus: number | undefined): Classified => {
  const original = error.originalError;
  if (original instanceof KeelError) {
    return { code: original.code, message: original.message, extra: original.details };
  }
  const ownCode = error.extensions.code;
  // graphql's own errors (syntax, schema validation, variable coercion, which wraps the GraphQLError
  // that says why) carry no original error of ours.
  if (original === undefined || original === null || original instanceof graphql.GraphQLError) {
    const message = withoutSuggestions(error.message, production);
    if (isErrorCode(ownCode)) {
      const { code: _code, ...extra } = error.extensions;
      return { code: ownCode, message, extra };
    }
    // The field comes from the message as GraphQL wrote it (the suggestion is after it).
    const field = variableField(error.message);
    if (field !== undefined) return { code: 'KEEL_ERR_VALIDATION', message, extra: { field }, quotesInput: true };
    return { code: 'KEEL_ERR_GRAPHQL_VALIDATION', message, extra: {}, quotesInput: true };
  }
  const fastifyCode = propertyOf(original, 'code');
  const statusCode = propertyOf(original, 'statusCode');
  if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { code: 'KEEL_ERR_BODY_TOO_LARGE', message: `The request body is larger than the limit (BODY_LIMIT_BYTES).`, extra: {}, status: 413 };
  }
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    // fastify's and mercurius' request errors: bad JSON, wrong content type, no query, GET mutation.
    const message = fastifyCode === 'MER_ERR_GQL_PERSISTED_QUERY_NOT_FOUND' ? 'The request has no GraphQL query.' : original.message;
    return { code: 'KEEL_ERR_GRAPHQL_VALIDATION', message, extra: {}, status: statusCode, quotesInput: true };
  }
  if (wrapperStatus !== undefined && wrapperStatus >= 400 && wrapperStatus < 500) {
    // A plain error inside one of mercurius' request errors (e.g. a mutation sent with GET).
    return { code: 'KEEL_ERR_GRAPHQL_VALIDATION', message: original.message, extra: {}, status: wrapperStatus, quotesInput: true };
  }
  // A read model's database lost or refused (the driver's message names hosts): worth a retry.
  if (isConnectionError(original)) return { code: 'KEEL_ERR_DATABASE_UNAVAILABLE', message: ERROR_CODES.KEEL_ERR_DATABASE_UNAVAILABLE, extra: {} };
  return { code: 'KEEL_ERR_INTERNAL', message: production ? 'Internal server error.' : original.message, extra: {} };
};

/**
 * mercurius wraps request failures (validation, depth, GET mutation) in one error whose `errors`
 * holds the real ones; each inner error keeps the wrapper's HTTP status.
 */
const unwrap = (errors: readonly GraphQLError[]): Array<{ readonly error: GraphQLError; readonly status?: number }> =>
  errors.flatMap((error) => {
    const inner = propertyOf(error.originalError, 'errors');
    if (!Array.isArray(inner)) return [{ error }];
    const wrapperStatus = propertyOf(error.originalError, 'statusCode');
    const status = typeof wrapperStatus === 'number' ? { status: wrapperStatus } : {};
    return inner.map((e: unknown) => ({
      error: e instanceof graphql.GraphQLError
        ? e
        : new graphql.GraphQLError(e instanceof Error ? e.message : String(e), { originalError: e instanceof Error ? e : null }),
      ...status,
    }));
  });

/**
 * The server log gets every error: an unexpected one with its stack (level error), the others by
 * code, with the message unless it quotes the client's input (then its field, if it names one).
 */
const record = (log: FastifyBaseLogger, c: Classified, error: GraphQLError, what: string): void => {
  if (c.code === 'KEEL_ERR_INTERNAL') log.error({ err: error.originalError ?? error, path: error.path }, `unexpected error in GraphQL ${what}`);
  else if (c.quotesInput === true) log.info({ code: c.code, path: error.path, field: c.extra.field }, `GraphQL ${what} refused: ${c.code} (the message quotes the input: the client's only)`);
  else log.info({ code: c.code, path: error.path }, c.message);
};

/**
 * Where a formatted error is logged and which request it names. An HTTP request's context has its
 * reply; a subscription's pushed value is formatted with its connection's context, which has none
 * (mercurius puts the WebSocket's upgrade request there instead).
 */
const originOf = (context: MercuriusContext): { readonly log: FastifyBaseLogger; readonly requestId: string; readonly what: string } => {
  const { reply } = context as Partial<Pick<MercuriusContext, 'reply'>>;
  if (reply !== undefined) return { log: reply.log, requestId: reply.request.id, what: 'request' };
  const { request } = context as { readonly request?: FastifyRequest };
  return { log: request?.log ?? context.app.log, requestId: request?.id ?? 'ws', what: 'subscription' };
};

export const createErrorFormatter = (production: boolean) =>
  (execution: ExecutionResult & Required<Pick<ExecutionResult, 'errors'>>, context: MercuriusContext) => {
    const { log, requestId, what } = originOf(context);
    let status: number | undefined;
    const errors = unwrap(execution.errors).map(({ error, status: wrapperStatus }): GraphQLFormattedError => {
      const c = classify(error, production, wrapperStatus);
      record(log, c, error, what);
      status ??= c.status ?? STATUS[c.code] ?? 400;
      return {
        message: c.message,
        ...(error.locations === undefined ? {} : { locations: error.locations }),
        ...(error.path === undefined ? {} : { path: error.path }),
        extensions: { ...c.extra, code: c.code, ...(c.code === 'KEEL_ERR_INTERNAL' ? { requestId } : {}) },
      };
    });
    const { reply } = context as Partial<Pick<MercuriusContext, 'reply'>>;
    if (reply !== undefined) noteErrorCodes(reply.request, errors.map((error) => String(error.extensions?.code)));
    if (execution.data !== undefined) return { statusCode: 200, response: { data: execution.data, errors } };
    // A request refused before execution. fastify's error handling drops the media type chosen from
    // Accept (plugin.ts): it is set again (media-types.ts). A 405 (a mutation sent with GET) names
    // the method that is allowed, as HTTP asks.
    if (reply !== undefined && responseMedia(reply.request.headers.accept) === 'graphql-response') void reply.type(GRAPHQL_RESPONSE_TYPE);
    if (status === 405) void reply?.header('allow', 'POST');
    return { statusCode: status ?? 400, response: { errors } };
  };

/**
 * For errors mercurius sends without the formatter (a subscription refused when it starts): the
 * same code, message and masking, as a GraphQLError whose extensions graphql-js keeps.
 */
export const toClientError = (error: unknown, production: boolean): GraphQLError => {
  const original = error instanceof Error ? error : new Error(String(error));
  const c = classify(new graphql.GraphQLError(original.message, { originalError: original }), production, undefined);
  return new graphql.GraphQLError(c.message, { extensions: { ...c.extra, code: c.code } });
};

/**
 * An error of a subscription (refused at start, or raised by its source after it started), as
 * the client gets it (`toClientError`: coded, masked in production) and logged as the formatter
 * logs a request's (an unexpected one at level error, with its stack: the log's only). `log` is
 * the WebSocket's upgrade request's (it names the request id).
 */
export const subscriptionError = (error: unknown, production: boolean, log: FastifyBaseLogger, requestId: string): GraphQLError => {
  const original = error instanceof Error ? error : new Error(String(error));
  const located = original instanceof graphql.GraphQLError ? original : new graphql.GraphQLError(original.message, { originalError: original });
  const c = classify(located, production, undefined);
  record(log, c, located, 'subscription');
  return new graphql.GraphQLError(c.message, { extensions: { ...c.extra, code: c.code, ...(c.code === 'KEEL_ERR_INTERNAL' ? { requestId } : {}) } });
};
