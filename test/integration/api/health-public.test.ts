/**
 * Issue #10, /health and /ready: the public gets a status and the names of failing checks, never a
 * driver's error (`connect ECONNREFUSED 127.0.0.1:5432` tells a stranger where the database is);
 * an admin's bearer token shows the reasons; the log has them, once per change of state. One
 * evaluation (cached for a second) answers every probe in the meantime, so a flood of probes
 * never becomes a flood of database queries.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/api/app.js';
import { probeAll } from '../../../src/api/health.js';
import type { HealthCheck } from '../../../src/api/health.js';
import { apiSettingsOf } from '../../../src/api/settings.js';
import { createApiWriteSide } from '../../../src/api/write-side.js';
import { loadConfig } from '../../../src/platform/config.js';
import { createLogger } from '../../../src/platform/logger.js';
import { NO_SHEDDING, TEST_JWT_SECRET, tokenFor } from '../../support/api-app.js';
import { commandsOn, openWriteSide } from '../../support/write-side.js';
import type { WriteSide } from '../../support/write-side.js';

/** A port nothing listens on: connecting to it is refused. */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
};

const admin = tokenFor('ada', ['admin']);
const customer = tokenFor('alice', ['customer']);

interface Built {
  readonly app: FastifyInstance;
  readonly logs: Array<Record<string, unknown>>;
}

describe('GET /health and GET /ready in public', () => {
  let side: WriteSide;
  let port: number;
  let unreachable: pg.Pool;
  const apps: FastifyInstance[] = [];
  beforeAll(async () => {
    side = await openWriteSide('api_health_public');
    port = await closedPort();
    unreachable = new pg.Pool({ connectionString: `postgres://keel:secret@127.0.0.1:${port}/keel`, connectionTimeoutMillis: 2000 });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await unreachable.end();
    await side.close();
  });

  const build = async (health: HealthCheck, ready: HealthCheck): Promise<Built> => {
    const logs: Array<Record<string, unknown>> = [];
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const config = loadConfig({ ...NO_SHEDDING, NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'info' });
    const { handler, commerce } = commandsOn(side.store);
    const app = buildApp({
      logger: createLogger(config, capture),
      health,
      api: { settings: apiSettingsOf(config), write: createApiWriteSide(handler, commerce), ready },
    });
    apps.push(app);
    await app.ready();
    return { app, logs };
  };
  const get = (app: FastifyInstance, url: string, token?: string) =>
    app.inject({ method: 'GET', url, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

  it('with PostgreSQL unreachable: status and failing check names only in public, the reason for an admin', async () => {
    const check: HealthCheck = () => probeAll({ database: () => unreachable.query('select 1'), eventstore: async () => undefined });
    const { app } = await build(check, check);
    for (const url of ['/health', '/ready']) {
      for (const token of [undefined, customer, 'not-a-token']) {
        const response = await get(app, url, token);
        expect(response.statusCode, url).toBe(503);
        expect(response.json(), url).toEqual({ status: 'unavailable', failing: ['database'] });
        for (const leak of ['ECONNREFUSED', '127.0.0.1', String(port), 'connect']) expect(response.body, `${url} ${leak}`).not.toContain(leak);
      }
      const detailed = await get(app, url, admin);
      expect(detailed.statusCode).toBe(503);
      expect(detailed.json()).toEqual({ status: 'unavailable', failing: ['database'], checks: { database: `connect ECONNREFUSED 127.0.0.1:${port}`, eventstore: 'ok' } });
    }
  });

  it('answers 200 {status: ok} in public and the checks for an admin', async () => {
    const check: HealthCheck = async () => ({ database: 'ok', eventstore: 'ok' });
    const { app } = await build(check, check);
    const response = await get(app, '/health');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
    expect((await get(app, '/ready', admin)).json()).toEqual({ status: 'ok', checks: { database: 'ok', eventstore: 'ok' } });
  });

  it('100 concurrent probes cause one evaluation; one a second later causes the next', async () => {
    let evaluations = 0;
    const check: HealthCheck = async () => {
      evaluations += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { database: 'ok' };
    };
    const { app } = await build(check, async () => ({ database: 'ok' }));
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => get(app, '/health', i % 10 === 0 ? admin : undefined)));
    expect(responses.map((r) => r.statusCode)).toEqual(Array.from({ length: 100 }, () => 200));
    expect(evaluations).toBe(1);
    // Repeated probes within the second share it too.
    await get(app, '/health');
    expect(evaluations).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await get(app, '/health');
    expect(evaluations).toBe(2);
  });

  it('logs the reasons at warn once per change of state, not once per probe', async () => {
    let failing = true;
    const check: HealthCheck = async () => ({ database: failing ? 'connect ECONNREFUSED 10.9.8.7:5432' : 'ok' });
    const { app, logs } = await build(check, check);
    const warnings = () => logs.filter((entry) => entry.level === 'warn' && String(entry.msg).startsWith('/health'));
    for (let i = 0; i < 3; i++) {
      expect((await get(app, '/health')).statusCode).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 1050));
    }
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatchObject({ checks: { database: 'connect ECONNREFUSED 10.9.8.7:5432' } });
    failing = false;
    expect((await get(app, '/health')).statusCode).toBe(200);
    expect(logs.some((entry) => entry.level === 'info' && String(entry.msg).startsWith('/health') && String(entry.msg).includes('ok'))).toBe(true);
    failing = true;
    await new Promise((resolve) => setTimeout(resolve, 1050));
    expect((await get(app, '/health')).statusCode).toBe(503);
    expect(warnings()).toHaveLength(2);
  });
});
