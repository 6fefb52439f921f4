/**
 * `npm start` (src/main.ts) as a real process with EVENTSTORE_URL set. The EventStoreDB it talks to
 * is EsdbProtocolDouble, an in-process FAKE of EventStoreDB's gRPC protocol running in this test
 * process; PostgreSQL is real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../../src/api/tokens.js';
import { DEVELOPMENT_JWT_SECRET } from '../../../src/platform/config.js';
import { createTestDatabase } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';
import { EsdbProtocolDouble } from '../../support/esdb-double/index.js';
import { spawnKeel } from '../../support/keel-process.js';
import type { KeelProcess } from '../../support/keel-process.js';

describe('npm start with EVENTSTORE_URL (EventStoreDB protocol double, fake)', () => {
  let database: TestDatabase;
  let double: EsdbProtocolDouble;
  let keel: KeelProcess | undefined;
  beforeAll(async () => {
    database = await createTestDatabase('esdb_start');
    double = await EsdbProtocolDouble.start();
  });
  afterAll(async () => {
    if (keel && keel.child.exitCode === null && keel.child.signalCode === null) keel.child.kill('SIGKILL');
    await double?.close();
    await database?.drop();
  });

  it('serves /health on the EventStoreDB adapter and exits 0 on SIGTERM', async () => {
    keel = spawnKeel({ DATABASE_URL: database.url, EVENTSTORE_URL: double.url, PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test' });
    const url = await keel.waitForUrl();
    const response = await fetch(`${url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    // The checks, for an admin (JWT_SECRET unset: the development secret, on loopback).
    const admin = signToken({ subject: 'ada', roles: ['admin'], secret: DEVELOPMENT_JWT_SECRET, expiresInSeconds: 600 });
    const detailed = await fetch(`${url}/health`, { headers: { authorization: `Bearer ${admin}` } });
    expect(await detailed.json()).toMatchObject({ checks: { database: 'ok', eventstore: 'ok' } });
    expect(keel.stdout()).toContain('"eventStore":"eventstoredb"');
    keel.child.kill('SIGTERM');
    expect(await keel.exited(15_000)).toEqual({ code: 0, signal: null });
  });
});
