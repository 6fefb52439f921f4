/**
 * Every error a client sees goes through here. Each gets `extensions.code`, a code of the registry
 * (src/platform/errors.ts): a KeelError keeps its code (and its details, e.g. `field`); GraphQL
 * syntax and schema errors become KEEL_ERR_GRAPHQL_VALIDATION, bad variable values
 * KEEL_ERR_VALIDATION naming the field; anything unexpected KEEL_ERR_INTERNAL, logged with its
 * stack and, in production, masked to a bare message (no stack, no SQL, no schema suggestions).
 */
import type { ExecutionResult, GraphQLError, GraphQLFormattedError } from 'graphql';
import type { MercuriusContext } from 'mercurius';
import { ERROR_CODES, KeelError } from '../../platform/errors.js';
import type { ErrorCode } from '../../platform/errors.js';
import { graphql } from './graphql-runtime.js';

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

const classify = (error: GraphQLError, production: boolean, wrapperStatus: number | undefined): Classified => {
  const original = error.originalError;
  if (original instanceof KeelError) {
    return { code: original.code, message: original.message, extra: original.details };
  }
  const ownCode = error.extensions.code;
  // graphql's own errors (syntax, schema validation, variable coercion, which wraps the GraphQLError
  // that says why) carry no original error of ours.
  if (original === undefined || original === null || original instanceof graphql.GraphQLError) {
    if (isErrorCode(ownCode)) {
      const { code: _code, ...extra } = error.extensions;
      return { code: ownCode, message: error.message, extra };
    }
    const field = variableField(error.message);
    if (field !== undefined) return { code: 'KEEL_ERR_VALIDATION', message: error.message, extra: { field } };
    const message = production ? error.message.replace(/ Did you mean .*\?$/, '') : error.message;
    return { code: 'KEEL_ERR_GRAPHQL_VALIDATION', message, extra: {} };
  }
  const fastifyCode = propertyOf(original, 'code');
  const statusCode = propertyOf(original, 'statusCode');
  if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { code: 'KEEL_ERR_BODY_TOO_LARGE', message: `The request body is larger than the limit (BODY_LIMIT_BYTES).`, extra: {}, status: 413 };
  }
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    // fastify's and mercurius' request errors: bad JSON, wrong content type, no query, GET mutation.
    const message = fastifyCode === 'MER_ERR_GQL_PERSISTED_QUERY_NOT_FOUND' ? 'The request has no GraphQL query.' : original.message;
    return { code: 'KEEL_ERR_GRAPHQL_VALIDATION', message, extra: {}, status: statusCode };
  }
  if (wrapperStatus !== undefined && wrapperStatus >= 400 && wrapperStatus < 500) {
    // A plain error inside one of mercurius' request errors (e.g. a mutation sent with GET).
    return { code: 'KEEL_ERR_GRAPHQL_VALIDATION', message: original.message, extra: {}, status: wrapperStatus };
  }
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

export const createErrorFormatter = (production: boolean) =>
  (execution: ExecutionResult & Required<Pick<ExecutionResult, 'errors'>>, context: MercuriusContext) => {
    const log = context.reply.log;
    const requestId = context.reply.request.id;
    let status: number | undefined;
    const errors = unwrap(execution.errors).map(({ error, status: wrapperStatus }): GraphQLFormattedError => {
      const c = classify(error, production, wrapperStatus);
      if (c.code === 'KEEL_ERR_INTERNAL') log.error({ err: error.originalError ?? error, path: error.path }, 'unexpected error in GraphQL request');
      else log.info({ code: c.code, path: error.path }, c.message);
      status ??= c.status ?? STATUS[c.code] ?? 400;
      return {
        message: c.message,
        ...(error.locations === undefined ? {} : { locations: error.locations }),
        ...(error.path === undefined ? {} : { path: error.path }),
        extensions: { ...c.extra, code: c.code, ...(c.code === 'KEEL_ERR_INTERNAL' ? { requestId } : {}) },
      };
    });
    if (execution.data !== undefined) return { statusCode: 200, response: { data: execution.data, errors } };
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
