/**
 * With tracing on (platform/tracing.ts), each GraphQL request over HTTP runs in a server span
 * that continues the client's trace (`traceparent`, `tracestate` headers) or starts one. fastify
 * gives a hook no way to run the rest of a request inside a context, so the route's handler itself
 * is wrapped as the route is added (as OpenTelemetry's fastify instrumentation does): everything
 * the handler starts (execution, resolvers, the command handler, the append) is inside the span.
 * The span ends with the response. With tracing off nothing is registered.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { contextOfHeaders, endSpan, SpanKind, startSpan, tracingEnabled, withSpan } from '../../platform/tracing.js';
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
      const span = startSpan(`${request.method} ${path}`, {
        kind: SpanKind.SERVER,
        parent: contextOfHeaders(request.headers),
        attributes: { 'http.request.method': request.method, 'url.path': path, 'keel.request_id': request.id },
      });
      request.keelSpan = span ?? null;
      return withSpan(span, () => handler.call(this, request, reply));
    };
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = request.keelSpan;
    if (span !== null) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (request.keelOperation !== null) span.updateName(`graphql ${request.keelOperation.type} ${request.keelOperation.name}`);
      endSpan(span, reply.statusCode >= 500 ? new Error(`HTTP ${reply.statusCode}`) : undefined);
    }
    done();
  });
};
