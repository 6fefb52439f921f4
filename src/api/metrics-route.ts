/**
 * `GET /metrics`: this process's metrics (platform/metrics.ts) for Prometheus, as Prometheus text,
 * or OpenMetrics (with exemplars) when the scraper's Accept asks for it. Served by every role: the
 * API on its port, the projector on PROJECTOR_PORT. Never shed under load (overload.ts) and not
 * routed by the Kubernetes Ingress: Prometheus scrapes the pods directly (deploy/kubernetes).
 */
import type { FastifyPluginAsync } from 'fastify';
import { exposition } from '../platform/metrics.js';

export const metricsRoute: FastifyPluginAsync = async (app) => {
  app.get('/metrics', async (request, reply) => {
    const { contentType, body } = await exposition(request.headers.accept);
    return reply.type(contentType).send(body);
  });
};
