/**
 * Tracing: OpenTelemetry spans exported over OTLP/HTTP, off unless OTEL_EXPORTER_OTLP_ENDPOINT is
 * set. Off, nothing of the SDK is loaded and every helper here returns at its first line, so the
 * hot paths pay one boolean test.
 *
 * How a trace travels (docs/operations/operating.md, "Traces"): the GraphQL request's span (its
 * parent taken from the client's `traceparent` header) → the command's span → the append's span;
 * the command's W3C trace context is written into each event's metadata (`traceparent`), so the
 * projector's batch span links to the traces of the events it applied, and the process manager's
 * reaction to an event continues that event's trace. Replays (a projection rebuild, replay
 * debugging) start traces of their own marked `keel.replay: true`, never continuing or linking a
 * live one.
 *
 * The parent of every span is passed explicitly (a request's span travels in its scope, then in
 * the command's context): no context manager is registered, so nothing is "active". OpenTelemetry's
 * AsyncLocalStorage context manager would follow every promise of every request through Node 20's
 * async hooks, sampled or not: most of what tracing cost the API (decision 0008).
 * Log lines name their trace because the logger that writes them is bound to the span
 * (`logFieldsOf`), not through a mixin looking for an active span.
 */
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Context, Link, Span, SpanContext } from '@opentelemetry/api';

export { SpanKind } from '@opentelemetry/api';
export type { Context, Span } from '@opentelemetry/api';

export const tracer = trace.getTracer('keel');

let enabled = false;
let provider: { shutdown(): Promise<void>; forceFlush(): Promise<void> } | undefined;

/** Whether spans are recorded and exported (OTEL_EXPORTER_OTLP_ENDPOINT set). */
export const tracingEnabled = (): boolean => enabled;

export interface TracingOptions {
  /** OTLP/HTTP base URL, e.g. http://jaeger:4318 (spans go to `<endpoint>/v1/traces`). Absent: off. */
  readonly endpoint?: string | undefined;
  readonly serviceName: string;
  readonly role: string;
  readonly version: string;
}

export interface Tracing {
  /** Sends the spans still buffered. */
  flush(): Promise<void>;
}

/**
 * Registers the global tracer provider (once per process; a second call reuses it) with a batching
 * OTLP exporter and the W3C trace-context propagator, and no context manager (see above).
 */
export const startTracing = async (options: TracingOptions): Promise<Tracing> => {
  if (options.endpoint === undefined) return { flush: () => Promise.resolve() };
  if (provider === undefined) {
    const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
    const exporter = new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` });
    const created = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName, 'service.version': options.version, 'keel.role': options.role }),
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
    });
    created.register({ contextManager: null });
    provider = created;
  }
  enabled = true;
  const registered = provider;
  return { flush: () => registered.forceFlush() };
};

const SAMPLED = 1;

const sampled = (spanContext: SpanContext | undefined): spanContext is SpanContext =>
  spanContext !== undefined && trace.isSpanContextValid(spanContext) && (spanContext.traceFlags & SAMPLED) === SAMPLED;

/** A span's trace id, for an exemplar: only when the span is sampled (its trace is exported). */
export const sampledTraceId = (span: Span | null | undefined): string | undefined => {
  const spanContext = span?.spanContext();
  return sampled(spanContext) ? spanContext.traceId : undefined;
};

/**
 * The ids a log line written for `span` carries (`traceId`, `spanId`): bind them to the logger
 * that writes inside the span (`logger.child(logFieldsOf(span))`). None for an unsampled span,
 * whose trace is never exported, or without one.
 */
export const logFieldsOf = (span: Span | null | undefined): Record<string, string> => {
  const spanContext = span?.spanContext();
  return sampled(spanContext) ? { traceId: spanContext.traceId, spanId: spanContext.spanId } : {};
};

/** The W3C `traceparent` of a span, to store in an event's metadata. */
export const traceparentOf = (span: Span | undefined): string | undefined => {
  const spanContext = span?.spanContext();
  if (!sampled(spanContext)) return undefined;
  return `00-${spanContext.traceId}-${spanContext.spanId}-0${spanContext.traceFlags.toString(16)}`;
};

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The `traceparent` an event's metadata carries, when it is a well-formed one. */
export const traceparentIn = (metadata: Readonly<Record<string, unknown>>): string | undefined => {
  const value = metadata.traceparent;
  return typeof value === 'string' && TRACEPARENT.test(value) ? value : undefined;
};

/** The trace id of a `traceparent` (an exemplar label), without building a context. */
export const traceIdOf = (traceparent: string | undefined): string | undefined => (traceparent === undefined ? undefined : traceparent.slice(3, 35));

/** A context whose parent is the remote span a `traceparent` names (or the root context). */
export const contextOf = (traceparent: string | undefined): Context =>
  traceparent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, { traceparent });

/** A context whose span is `span`: the parent of the spans started as its children. */
export const contextOfSpan = (span: Span): Context => trace.setSpan(ROOT_CONTEXT, span);

/** A context continuing a request's incoming trace headers (`traceparent`, `tracestate`). */
export const contextOfHeaders = (headers: Readonly<Record<string, string | string[] | undefined>>): Context => propagation.extract(ROOT_CONTEXT, headers);

/** Links to the spans named by distinct `traceparent`s, at most `max` of them. */
export const linksOf = (traceparents: Iterable<string | undefined>, max = 128): Link[] => {
  const seen = new Set<string>();
  const links: Link[] = [];
  for (const traceparent of traceparents) {
    if (traceparent === undefined || seen.has(traceparent) || links.length >= max) continue;
    seen.add(traceparent);
    const spanContext = trace.getSpanContext(contextOf(traceparent));
    if (spanContext !== undefined) links.push({ context: spanContext });
  }
  return links;
};

export interface SpanOptions {
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  readonly links?: Link[];
  /** The parent: a context (`contextOf`, `contextOfSpan`, `contextOfHeaders`). Default: none, a new trace. */
  readonly parent?: Context;
}

/** Starts a span (undefined when tracing is off); the caller ends it with `endSpan`. */
export const startSpan = (name: string, options: SpanOptions = {}): Span | undefined => {
  if (!enabled) return undefined;
  const { attributes, links } = options;
  return tracer.startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, ...(attributes === undefined ? {} : { attributes }), ...(links === undefined ? {} : { links }) },
    options.parent ?? ROOT_CONTEXT,
  );
};

/** Ends a span, marking it failed with `error` when given. */
export const endSpan = (span: Span | undefined, error?: unknown): void => {
  if (span === undefined) return;
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
};

/** Runs `fn` and ends `span` when it settles (failed when it throws); plain `fn()` without one. */
export const runInSpan = async <T>(span: Span | undefined, fn: () => Promise<T>): Promise<T> => {
  if (span === undefined) return fn();
  try {
    const result = await fn();
    endSpan(span);
    return result;
  } catch (error) {
    endSpan(span, error);
    throw error;
  }
};

/**
 * Runs `fn` in a span of its own, ended when `fn` settles; `fn` is given the span, to pass on as
 * the parent of what it starts. With tracing off, `fn(undefined)`.
 */
export const inSpan = <T>(name: string, options: SpanOptions, fn: (span: Span | undefined) => Promise<T>): Promise<T> => {
  const span = startSpan(name, options);
  return runInSpan(span, () => fn(span));
};

/**
 * Runs a replay (a projection rebuild, replay debugging) in a trace of its own, marked
 * `keel.replay: true`: a new root, so it continues no live trace.
 */
export const inReplaySpan = <T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> =>
  inSpan(name, { parent: ROOT_CONTEXT, attributes: { ...attributes, 'keel.replay': true } }, fn);
