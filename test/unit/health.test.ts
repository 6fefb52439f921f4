import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { fastify } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { healthPlugin, probeAll } from '../../src/api/health.js';
import { createLogger } from '../../src/platform/logger.js';

const silent = createLogger({ logLevel: 'silent', nodeEnv: 'test' }, new Writable({ write: (_c, _e, done) => done() }));
const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

const appWith = (health: () => Promise<Record<string, string>>): FastifyInstance => {
  const app = buildApp({ logger: silent, health });
  apps.push(app);
  return app;
};

/** The plugin alone, where a request with `x-admin: yes` stands for one that may see the reasons. */
const pluginWith = (health: () => Promise<Record<string, string>>): FastifyInstance => {
  const logger: FastifyBaseLogger = silent;
  const app = fastify({ loggerInstance: logger });
  void app.register(healthPlugin, { check: health, showsReasons: (request) => request.headers['x-admin'] === 'yes' });
  apps.push(app);
  return app;
};
const asAdmin = { method: 'GET', url: '/health', headers: { 'x-admin': 'yes' } } as const;

describe('GET /health', () => {
  it('answers 200 when every check is ok (the checks only for who may see them)', async () => {
    const response = await appWith(async () => ({ database: 'ok', eventstore: 'ok' })).inject('/health');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
    const detailed = await pluginWith(async () => ({ database: 'ok', eventstore: 'ok' })).inject(asAdmin);
    expect(detailed.statusCode).toBe(200);
    expect(detailed.json()).toEqual({ status: 'ok', checks: { database: 'ok', eventstore: 'ok' } });
  });

  it('answers 503 naming the failing check (its reason only for who may see it)', async () => {
    const response = await appWith(async () => ({ database: 'ok', eventstore: 'connection refused' })).inject('/health');
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'unavailable', failing: ['eventstore'] });
    const app = pluginWith(async () => ({ database: 'ok', eventstore: 'connection refused' }));
    expect((await app.inject('/health')).json()).toEqual({ status: 'unavailable', failing: ['eventstore'] });
    const detailed = await app.inject(asAdmin);
    expect(detailed.statusCode).toBe(503);
    expect(detailed.json()).toEqual({
      status: 'unavailable',
      failing: ['eventstore'],
      checks: { database: 'ok', eventstore: 'connection refused' },
    });
  });

  it('answers 503 when the health function itself throws', async () => {
    const response = await appWith(async () => {
      throw new Error('boom');
    }).inject('/health');
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ status: 'unavailable', failing: ['health'] });
    const detailed = await pluginWith(async () => {
      throw new Error('boom');
    }).inject(asAdmin);
    expect(detailed.json()).toEqual({ status: 'unavailable', failing: ['health'], checks: { health: 'boom' } });
  });
});

describe('probeAll', () => {
  it('reports ok, a rejection message, and a timeout per probe', async () => {
    const result = await probeAll(
      {
        fast: async () => 1,
        broken: async () => {
          throw new Error('refused');
        },
        stuck: () => new Promise(() => {}),
      },
      50,
    );
    expect(result).toEqual({ fast: 'ok', broken: 'refused', stuck: 'no answer within 50 ms' });
  });
});
