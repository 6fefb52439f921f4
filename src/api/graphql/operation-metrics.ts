/**
 * keel_graphql_*: every GraphQL request over HTTP, by operation name and type, with its duration,
 * its outcome and the codes of the errors it answered, recorded as the response is sent. The
 * operation is read from the request's text (`operationOf`), refused requests included.
 *
 * Operation names are the client's words: a label per name would let any client grow the series
 * without bound. Names must look like GraphQL names (at most 64 characters), and after
 * `MAX_OPERATION_NAMES` distinct ones every new name is counted as `other`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { metrics } from '../../platform/metrics.js';
import { sampledTraceId } from '../../platform/tracing.js';
import type { CounterSeries, HistogramSeries } from '../../platform/metric-series.js';

export const MAX_OPERATION_NAMES = 200;

interface Operation {
  readonly name: string;
  readonly type: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The GraphQL operation the request named (set when its response is sent). */
    keelOperation: Operation | null;
    /** Codes of the GraphQL errors answered (null: none). */
    keelErrorCodes: string[] | null;
  }
}

const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
const known = new Set<string>();

/** The label for a client's operation name: itself while the set of names is small, else `other`. */
const labelOf = (name: string | undefined): string => {
  if (name === undefined) return 'anonymous';
  if (!NAME.test(name)) return 'invalid';
  if (known.has(name)) return name;
  if (known.size >= MAX_OPERATION_NAMES) return 'other';
  known.add(name);
  return name;
};

/**
 * The operation a request runs, read from its text without parsing it: the named operation's (or
 * the first one's) keyword and name; an anonymous one is named by its first field. Per request this
 * is one or two regular-expression scans that stop at the operation; mercurius' parsed document is
 * only reachable from an async hook, which would cost every request a promise.
 */
const OPERATION = /(?:^|[\s{}])(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/;
const SHORTHAND = /^\s*\{\s*([_A-Za-z][_0-9A-Za-z]*)/;
const FIRST_FIELD = /\{\s*([_A-Za-z][_0-9A-Za-z]*)/;

export const operationOf = (query: string, operationName: string | undefined): Operation => {
  const shorthand = SHORTHAND.exec(query);
  if (shorthand !== null) return { name: labelOf(shorthand[1]), type: 'query' };
  const named = operationName === undefined || !NAME.test(operationName) ? undefined : new RegExp(`(?:^|[\\s}])(query|mutation|subscription)\\s+${operationName}\\b`).exec(query);
  if (named !== null && named !== undefined) return { name: labelOf(operationName), type: named[1] ?? 'unknown' };
  const first = OPERATION.exec(query);
  if (first === null) return { name: labelOf(operationName), type: 'unknown' };
  const name = first[2] ?? FIRST_FIELD.exec(query.slice(first.index))?.[1];
  return { name: labelOf(name), type: first[1] ?? 'unknown' };
};

const paramsOf = (request: FastifyRequest): { readonly query: unknown; readonly operationName: unknown } | undefined => {
  const source = request.method === 'GET' ? request.query : request.body;
  return typeof source === 'object' && source !== null ? (source as { query: unknown; operationName: unknown }) : undefined;
};

/** Notes the codes of the errors a request answers; called by the error formatter. */
export const noteErrorCodes = (request: FastifyRequest, codes: readonly string[]): void => {
  request.keelErrorCodes = [...(request.keelErrorCodes ?? []), ...codes];
};

interface OperationSeries {
  readonly operation: Operation;
  readonly ok: CounterSeries<string>;
  readonly error: CounterSeries<string>;
  readonly duration: HistogramSeries<string>;
}

/** The series of each operation, made once. */
const series = new Map<string, OperationSeries>();
const seriesOf = (operation: Operation): OperationSeries => {
  const key = `${operation.type} ${operation.name}`;
  let found = series.get(key);
  if (found === undefined) {
    found = {
      operation,
      ok: metrics.graphqlOperations.labels(operation.name, operation.type, 'ok'),
      error: metrics.graphqlOperations.labels(operation.name, operation.type, 'error'),
      duration: metrics.graphqlDuration.labels(operation.name, operation.type),
    };
    series.set(key, found);
  }
  return found;
};

/**
 * The series by request text (and operation name): clients send the same few texts again and
 * again, so a request usually costs two Map lookups, not the scans of `operationOf`. Emptied when it
 * holds `MAX_CACHED_TEXTS` texts, so texts that vary (inlined arguments) do not grow it forever.
 */
const MAX_CACHED_TEXTS = 1_000;
const byText = new Map<string, Map<string, OperationSeries>>();
const seriesOfText = (query: string, operationName: string | undefined): OperationSeries => {
  let named = byText.get(query);
  const found = named?.get(operationName ?? '');
  if (found !== undefined) return found;
  const made = seriesOf(operationOf(query, operationName));
  if (named === undefined) {
    if (byText.size >= MAX_CACHED_TEXTS) byText.clear();
    named = new Map();
    byText.set(query, named);
  }
  named.set(operationName ?? '', made);
  return made;
};

/** Registers the request decorations and the onResponse hook on the GraphQL plugin's instance. */
export const registerOperationMetrics = (app: FastifyInstance): void => {
  app.decorateRequest('keelOperation', null);
  app.decorateRequest('keelErrorCodes', null);
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    // A WebSocket's upgrade: its subscriptions are not requests of their own.
    if (Reflect.get(request, 'ws') === true) return done();
    const params = paramsOf(request);
    const operationName = typeof params?.operationName === 'string' ? params.operationName : undefined;
    const series = typeof params?.query === 'string' ? seriesOfText(params.query, operationName) : seriesOf({ name: labelOf(operationName), type: 'unknown' });
    const { operation } = series;
    request.keelOperation = operation;
    const codes = request.keelErrorCodes;
    (codes !== null || reply.statusCode >= 400 ? series.error : series.ok).inc();
    series.duration.observe(reply.elapsedTime / 1000, sampledTraceId(request.keelSpan));
    for (const code of codes ?? []) metrics.graphqlErrors.labels(operation.name, code).inc();
    done();
  });
};
