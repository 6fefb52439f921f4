/**
 * With tracing on (platform/tracing.ts), each GraphQL request over HTTP runs in a server span
 * that continues the client's trace (`traceparent`, `tracestate` headers) or starts one. The span
 * starts as the route's handler does (the handler is wrapped as the route is added) and ends with
 * the response. It is kept on the request (`keelSpan`): the request's scope hands it to the
 * commands its mutations send, as their parent (nothing is "active": platform/tracing.ts). A
 * sampled request's loggers are bound to the span, so its lines carry `traceId` and `spanId`.
 * With tracing off nothing is registered.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { contextOfHeaders, endSpan, logFieldsOf, SpanKind, startSpan, tracingEnabled } from '../../platform/tracing.js';
import type { Span } from '../../platform/tracing.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's server span while tracing is on (null otherwise). */
    keelSpan: Span | null;
  }
}

export const registerRequestTracing = (app: FastifyInstance, path: string): void => {
  app.decorateRequest('keelSpan', null);
  if (!tracingEnabled()) return;
  app.addHook('onRoute', (route) => {
    if (route.url !== path) return;
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function traced(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      // Most requests carry no trace context, and most spans are not sampled: neither the headers
      // are parsed nor the attributes built for them.
      const span = startSpan(`${request.method} ${path}`, { kind: SpanKind.SERVER, ...(request.headers.traceparent === undefined ? {} : { parent: contextOfHeaders(request.headers) }) });
      request.keelSpan = span ?? null;
      if (span?.isRecording() !== true) return handler.call(this, request, reply);
      span.setAttributes({ 'http.request.method': request.method, 'url.path': path, 'keel.request_id': request.id });
      const fields = logFieldsOf(span);
      if (fields.traceId !== undefined) {
        request.log = request.log.child(fields);
        reply.log = request.log;
      }
      return handler.call(this, request, reply);
    };
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = request.keelSpan;
    if (span?.isRecording() === true) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (request.keelOperation !== null) span.updateName(`graphql ${request.keelOperation.type} ${request.keelOperation.name}`);
      endSpan(span, reply.statusCode >= 500 ? new Error(`HTTP ${reply.statusCode}`) : undefined);
    }
    done();
  });
};
