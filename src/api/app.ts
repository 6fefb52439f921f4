/**
 * The app factory: builds the fastify server with every feature plugin registered. `listen` is
 * the caller's business (src/cli/serve.ts), so tests use this same factory with `inject`.
 */
import { fastify } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { healthPlugin } from './health.js';
import type { HealthCheck } from './health.js';

export interface AppDeps {
  readonly logger: FastifyBaseLogger;
  readonly health: HealthCheck;
}

export const buildApp = (deps: AppDeps): FastifyInstance => {
  const app = fastify({ loggerInstance: deps.logger });
  void app.register(healthPlugin, { check: deps.health });
  // Later issues register GraphQL (mercurius) and the inspector here.
  return app;
};
