/**
 * The write path never touches the read models and the read path never touches the event store:
 * the API runs its mutations on a PostgreSQL role that has no access to any read-model schema, and
 * its queries on a role that has no access to the event store; both work, end to end (the
 * projector engine, which needs both, runs as the owner).
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/api/app.js';
import { createInspectorDeps } from '../../../src/api/inspector/index.js';
import { createReadSide } from '../../../src/api/read-side-adapter.js';
import type { ReadSide } from '../../../src/api/read-side.js';
import { apiSettingsOf } from '../../../src/api/settings.js';
import { createApiWriteSide } from '../../../src/api/write-side.js';
import { createPostgresEventStore } from '../../../src/eventstore/postgres/index.js';
import type { EventStore } from '../../../src/eventstore/port.js';
import { createCacheChangeSink } from '../../../src/projections/cache/change-sink.js';
import { createMemoryReadCache } from '../../../src/projections/cache/memory-cache.js';
import type { ReadCache } from '../../../src/projections/cache/read-cache.js';
import { startProjections, watchProjections } from '../../../src/projections/engine/index.js';
import type { ProjectionWatch, Projections } from '../../../src/projections/engine/index.js';
import { liveSchemaOf } from '../../../src/projections/projection.js';
import { readModels } from '../../../src/projections/read-models/index.js';
import { loadConfig } from '../../../src/platform/config.js';
import { openDatabase } from '../../../src/platform/database.js';
import type { DatabaseHandle } from '../../../src/platform/database.js';
import { codes, gql, NO_SHEDDING, openApiHarness, silentLogger, TEST_JWT_SECRET, tokenFor } from '../../support/api-app.js';
import type { ApiHarness } from '../../support/api-app.js';
import { subscribe, wsClient } from '../../support/api-ws.js';
import { commandsOn, openWriteSide } from '../../support/write-side.js';
import type { WriteSide } from '../../support/write-side.js';

const admin = tokenFor('ada', ['admin']);
const alice = tokenFor('alice', ['customer']);

const withRole = (url: string, role: string, password: string): string => {
  const u = new URL(url);
  u.username = role;
  u.password = password;
  return u.toString();
};

describe('write path and read path on separate PostgreSQL credentials', () => {
  let owner: WriteSide;
  let projections: Projections;
  let writerHandle: DatabaseHandle;
  let writerStore: EventStore;
  let readerHandle: DatabaseHandle;
  let watch: ProjectionWatch;
  let h: ApiHarness;
  let readSide: ReadSide;
  let cache: ReadCache;
  let admin_: pg.Client;
  const suffix = randomBytes(4).toString('hex');
  const writer = `keel_writer_${suffix}`;
  const reader = `keel_reader_${suffix}`;
  const password = `pw_${suffix}`;

  beforeAll(async () => {
    owner = await openWriteSide('api_separation');
    cache = createMemoryReadCache({ logger: silentLogger() });
    projections = await startProjections({ handle: owner.handle, store: owner.store, projections: readModels, sink: createCacheChangeSink(cache), logger: silentLogger() });
    const url = owner.url ?? '';
    admin_ = new pg.Client({ connectionString: url });
    await admin_.connect();
    const database = new URL(url).pathname.slice(1);
    const schemas = readModels.map((p) => liveSchemaOf(p.name));
    // The runners create their schemas once they start; wait until every one exists.
    for (let tries = 0; ; tries++) {
      const { rows } = await admin_.query<{ n: number }>('select count(*)::int as n from information_schema.schemata where schema_name = any($1)', [schemas]);
      if (rows[0]?.n === schemas.length) break;
      if (tries > 300) throw new Error(`read-model schemas not created: ${schemas.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await admin_.query(`create role ${writer} login password '${password}'`);
    await admin_.query(`create role ${reader} login password '${password}'`);
    await admin_.query(`grant connect on database "${database}" to ${writer}, ${reader}`);
    // The writer: the event store (tables and functions in public), nothing of the read models.
    await admin_.query(`grant select, insert, update, delete on all tables in schema public to ${writer}`);
    await admin_.query(`grant usage, select on all sequences in schema public to ${writer}`);
    await admin_.query(`grant execute on all functions in schema public to ${writer}`);
    await admin_.query(`revoke all on keel_projections from ${writer}`);
    // The reader: the read models' schemas and the projections' checkpoints, nothing of the event store.
    for (const schema of schemas) {
      await admin_.query(`grant usage on schema ${schema} to ${reader}`);
      await admin_.query(`grant select on all tables in schema ${schema} to ${reader}`);
    }
    await admin_.query(`grant select on keel_projections to ${reader}`);

    writerHandle = await openDatabase({ databaseUrl: withRole(url, writer, password), dataDir: '', poolSize: 4 });
    writerStore = createPostgresEventStore(writerHandle);
    readerHandle = await openDatabase({ databaseUrl: withRole(url, reader, password), dataDir: '', poolSize: 4 });
    watch = await watchProjections(readerHandle);
    readSide = createReadSide({
      db: readerHandle.db,
      cache,
      watch,
      status: () => Promise.reject(new Error('projection status reads the event store head; not part of this test')),
    });
    h = await openApiHarness('api_separation', {
      side: { ...owner, store: writerStore, handle: writerHandle },
      readSide,
      env: { CONSISTENCY_WAIT_MS: '30000' },
    });
  });
  afterAll(async () => {
    await h?.close();
    await watch?.close();
    await writerStore?.close();
    await writerHandle?.close();
    await readerHandle?.close();
    await projections?.stop();
    await admin_?.query(`drop owned by ${writer}`).catch(() => {});
    await admin_?.query(`drop owned by ${reader}`).catch(() => {});
    await admin_?.end();
    await owner?.close();
    const cleanup = new pg.Client({ connectionString: process.env.KEEL_TEST_DATABASE_URL });
    await cleanup.connect();
    await cleanup.query(`drop role if exists ${writer}`).catch(() => {});
    await cleanup.query(`drop role if exists ${reader}`).catch(() => {});
    await cleanup.end();
  });

  it('really revokes: the writer cannot read a read model, the reader cannot read the event store', async () => {
    await expect(sql.raw(`select * from ${liveSchemaOf('catalog')}.products`).execute(writerHandle.db)).rejects.toThrow(/permission denied/);
    await expect(sql.raw('select * from keel_events').execute(readerHandle.db)).rejects.toThrow(/permission denied/);
  });

  it('serves mutations on the writer and queries on the reader, reading its own writes', async () => {
    const listed = await gql(h.app, 'mutation { listProduct(input: { productId: "sep", sku: "SEP", name: "Separated", price: 100, currency: "EUR" }) { consistencyToken } }', undefined, admin);
    expect(listed.body.errors).toBeUndefined();
    await gql(h.app, 'mutation { receiveStock(input: { sku: "SEP", quantity: 3 }) { consistencyToken } }', undefined, admin);
    const placed = await gql(h.app, 'mutation { placeOrder(input: { lines: [{ sku: "SEP", quantity: 1, unitPrice: 100 }], currency: "EUR" }) { orderId } }', undefined, alice);
    expect(placed.body.errors).toBeUndefined();
    const orderId = (placed.body.data?.placeOrder as { orderId: string }).orderId;
    const cancelled = await gql(h.app, 'mutation ($id: ID!) { cancelOrder(input: { orderId: $id, reason: "test" }) { consistencyToken } }', { id: orderId }, alice);
    expect(cancelled.body.errors).toBeUndefined();
    const t = (cancelled.body.data?.cancelOrder as { consistencyToken: string }).consistencyToken;

    const read = await gql(
      h.app,
      'query ($t: String, $id: ID!) { product(id: "sep", consistencyToken: $t) { name availability { received } } order(id: $id, consistencyToken: $t) { status lines { product { name } } } }',
      { t, id: orderId },
      alice,
    );
    expect(read.body).toEqual({ data: { product: { name: 'Separated', availability: { received: 3 } }, order: { status: 'CANCELLED', lines: [{ product: { name: 'Separated' } }] } } });
    expect(codes(await gql(h.app, '{ products(first: 5) { edges { node { id } } } }'))).toEqual([]);
  });

  it('regression: a database error after a subscription started reached the client raw — coded, masked in production, logged', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const logTo = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const production = await openApiHarness('api_separation', {
      side: { ...owner, store: writerStore, handle: writerHandle },
      readSide: createReadSide({ db: readerHandle.db, cache, watch, status: () => Promise.reject(new Error('not used')) }),
      env: { NODE_ENV: 'production', LOG_LEVEL: 'info', CONSISTENCY_WAIT_MS: '30000' },
      logTo,
    });
    const url = await production.app.listen({ port: 0, host: '127.0.0.1' });
    const placed = await gql(h.app, 'mutation { placeOrder(input: { lines: [{ sku: "SEP", quantity: 1 }] }) { orderId consistencyToken } }', undefined, alice);
    const { orderId, consistencyToken } = placed.body.data?.placeOrder as { orderId: string; consistencyToken: string };
    const changes = subscribe(wsClient(url, alice), 'subscription ($id: ID!, $after: String) { orderStatusChanged(orderId: $id, after: $after) { id status } }', { id: orderId, after: consistencyToken });
    const schema = liveSchemaOf('orders');
    try {
      // The read side loses its grant while subscribed: its next read fails in PostgreSQL for real.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await admin_.query(`revoke select on all tables in schema ${schema} from ${reader}`);
      await gql(h.app, 'mutation ($id: ID!) { cancelOrder(input: { orderId: $id, reason: "test" }) { consistencyToken } }', { id: orderId }, alice);
      const failure = await changes.next(30_000);
      expect(failure).toEqual({ error: [expect.objectContaining({ message: 'Internal server error.', extensions: expect.objectContaining({ code: 'KEEL_ERR_INTERNAL' }) })] });
      expect(JSON.stringify(failure)).not.toMatch(/permission|rm_orders|select/i);
      expect(logs.some((line) => line.level === 'error' && JSON.stringify(line).includes('permission denied'))).toBe(true);
    } finally {
      await admin_.query(`grant select on all tables in schema ${schema} to ${reader}`);
      await changes.close();
      await production.close();
    }
  });

  it('the inspector reads the event log on an admin-only path of its own; public queries cannot reach it', async () => {
    // As in a Keel process: GraphQL queries on the read side (here the reader role, no event store),
    // the inspector on the event store and the primary database (here the owner, as the projector engine).
    const config = loadConfig({ ...NO_SHEDDING, NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent', CONSISTENCY_WAIT_MS: '30000' });
    const { handler, commerce } = commandsOn(writerStore);
    const app = buildApp({
      logger: silentLogger(),
      health: async () => ({ database: 'ok' }),
      api: {
        settings: apiSettingsOf(config),
        write: createApiWriteSide(handler, commerce),
        readSide,
        ready: async () => ({ database: 'ok' }),
        inspector: createInspectorDeps({ store: owner.store, database: owner.handle, projections: readModels }),
      },
    });
    try {
      const placed = await gql(app, 'mutation { placeOrder(input: { lines: [{ sku: "SEP", quantity: 1 }] }) { orderId } }', undefined, alice);
      const orderId = (placed.body.data?.placeOrder as { orderId: string }).orderId;
      const routes = [
        '/inspector/api/search?q=order-',
        '/inspector/api/events/recent',
        `/inspector/api/streams/order-${orderId}/timeline`,
        `/inspector/api/orders/${orderId}/story`,
        `/inspector/api/streams/order-${orderId}/story`,
        '/inspector/api/projections',
        '/inspector/api/projections/orders/parked',
        `/inspector/api/projections/orders/lineage/${orderId}`,
      ];
      // Without an admin's token (none, or a customer's: the order's own owner) nothing of the log comes back.
      for (const url of routes) {
        for (const [token, status, code] of [[undefined, 401, 'UNAUTHENTICATED'], [alice, 403, 'FORBIDDEN']] as const) {
          const response = await app.inject({ url, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
          expect([url, response.statusCode, response.json<{ error: { code: string } }>().error.code]).toEqual([url, status, code]);
          expect(response.body).not.toContain(orderId);
          expect(response.body).not.toMatch(/OrderPlaced|"events"|"steps"/);
        }
      }
      const posted = await app.inject({ method: 'POST', url: '/inspector/api/projections/orders/parked/1/skip', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' }, payload: '{"confirm":true}' });
      expect(posted.statusCode).toBe(403);
      // An admin reads the log there (through the event store the read side has no access to).
      const timeline = await app.inject({ url: `/inspector/api/streams/order-${orderId}/timeline`, headers: { authorization: `Bearer ${admin}` } });
      expect(timeline.statusCode).toBe(200);
      expect(timeline.json<{ steps: Array<{ event: { type: string } }> }>().steps[0]?.event.type).toBe('OrderPlaced');

      // GraphQL has no field that reads the event log, whatever the token: the root fields are the
      // read models' queries, and asking for the inspector's data is a validation error.
      const schema = await gql(app, '{ __schema { queryType { fields { name } } subscriptionType { fields { name } } types { name } } }', undefined, admin);
      const data = schema.body.data?.__schema as { queryType: { fields: Array<{ name: string }> }; subscriptionType: { fields: Array<{ name: string }> }; types: Array<{ name: string }> };
      const roots = [...data.queryType.fields, ...data.subscriptionType.fields].map((f) => f.name);
      expect(roots.filter((name) => /event|inspect|story|timeline|replay|explain|parked|lineage|stream|search/i.test(name))).toEqual([]);
      expect(data.types.map((t) => t.name).filter((name) => /inspect|story|replay|explain|parked|lineage|recorded|eventview/i.test(name))).toEqual([]);
      for (const query of [
        '{ events { id type } }',
        '{ inspector { search(q: "order-") } }',
        `{ story(orderId: "${orderId}") { verdict } }`,
        `{ timeline(streamId: "order-${orderId}") { steps } }`,
        '{ recentEvents { position } }',
      ]) {
        expect(codes(await gql(app, query, undefined, admin))).toEqual(['KEEL_ERR_GRAPHQL_VALIDATION']);
      }
      // And the inspector's paths are not GraphQL endpoints.
      expect((await app.inject({ method: 'POST', url: '/inspector/api/graphql', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: '{"query":"{ products(first: 1) { edges { node { id } } } }"}' })).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });
});
