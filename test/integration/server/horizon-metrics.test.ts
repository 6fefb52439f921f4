/**
 * The xmin horizon in /metrics: a transaction left open in another database of the cluster holds
 * the PostgreSQL event store's subscriptions back; keel_xmin_horizon_age_seconds shows its age,
 * and once events wait behind it keel_xmin_horizon_waiting_seconds and keel_xmin_horizon_holder
 * name the session (pid, database, application, state). When it ends, the holder goes away.
 *
 * The blocker holds the horizon of the whole shared cluster, so it is released as soon as the
 * assertions ran (as in test/integration/eventstore/horizon-stall.test.ts).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../../src/api/tokens.js';
import { DEVELOPMENT_JWT_SECRET, loadConfig } from '../../../src/platform/config.js';
import { startKeel } from '../../../src/server/index.js';
import type { KeelServer } from '../../../src/server/index.js';
import { createTestDatabase } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';
import { silentLogger } from '../../support/api-app.js';

const admin = signToken({ subject: 'ada', roles: ['admin'], secret: DEVELOPMENT_JWT_SECRET, expiresInSeconds: 3600 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The value of the first sample of `name` whose labels match `labels`, or undefined. */
const sample = (exposition: string, name: string, labels = ''): number | undefined => {
  const line = exposition.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

describe('the xmin horizon in /metrics', () => {
  let database: TestDatabase;
  let other: TestDatabase;
  let server: KeelServer;

  beforeAll(async () => {
    database = await createTestDatabase('horizon_metrics');
    other = await createTestDatabase('horizon_metrics_other');
    const config = loadConfig({ DATABASE_URL: database.url, PORT: '0', LOG_LEVEL: 'silent', NODE_ENV: 'test' });
    server = await startKeel(config, { handleSignals: false, logger: silentLogger() });
  });
  afterAll(async () => {
    await server?.close();
    await other?.drop();
    await database?.drop();
  });

  const metrics = async (): Promise<string> => (await fetch(`${server.url}/metrics`)).text();

  it('shows the holder\'s age, how long events waited behind it, and who it is; and clears', async () => {
    const blocker = new pg.Client({ connectionString: other.url, application_name: 'horizon-metrics-blocker' });
    await blocker.connect();
    try {
      await blocker.query('begin');
      const { rows } = await blocker.query<{ pid: number }>('select pg_backend_pid() as pid, pg_current_xact_id()');
      const pid = String(rows[0]?.pid);
      // An event committed after the blocker's transaction began: it waits behind the horizon.
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        body: JSON.stringify({ query: 'mutation { listProduct(input: { productId: "hzn", sku: "HZN-1", name: "Horizon", price: 100, currency: "EUR" }) { position } }' }),
      });
      expect(await response.json()).toMatchObject({ data: { listProduct: { position: expect.any(String) } } });
      let text = '';
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        text = await metrics();
        if ((sample(text, 'keel_xmin_horizon_waiting_seconds') ?? 0) >= 2 && text.includes(`pid="${pid}"`)) break;
        await sleep(250);
      }
      expect(sample(text, 'keel_xmin_horizon_age_seconds')).toBeGreaterThan(0);
      expect(sample(text, 'keel_xmin_horizon_waiting_seconds')).toBeGreaterThanOrEqual(2);
      const holder = text.split('\n').find((l) => l.startsWith('keel_xmin_horizon_holder{'));
      expect(holder).toContain(`pid="${pid}"`);
      expect(holder).toContain('database="keel_t_horizon_metrics_other_');
      expect(holder).toContain('application="horizon-metrics-blocker"');
      expect(holder).toContain('state="idle in transaction"');
    } finally {
      await blocker.query('rollback').catch(() => undefined);
      await blocker.end();
    }
    let after = '';
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      after = await metrics();
      if (sample(after, 'keel_xmin_horizon_waiting_seconds') === 0 && !after.includes('keel_xmin_horizon_holder{')) break;
      await sleep(250);
    }
    expect(sample(after, 'keel_xmin_horizon_waiting_seconds')).toBe(0);
    expect(after).not.toContain('keel_xmin_horizon_holder{');
  });
});
