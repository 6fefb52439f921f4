/**
 * The inspector's JSON routes (`/inspector/api/…`, src/api/inspector) on real histories
 * (test/support/replay-histories.ts) written through the command handlers and the fulfilment
 * process manager on PostgreSQL, projected by the real engine (the read models, and a test model
 * that parks a poisoned event): admin-only auth before anything else, search, the live feed's
 * bounded reads of the newest events, timelines, stories, projection status, parked events behind a
 * required confirmation, lineage, coded errors, and a 503 where no event store is wired in. The
 * page's files are public and carry their own strict CSP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createInspectorDeps } from '../../../src/api/inspector/index.js';
import { newestEvents, RECENT_LIMIT, timeline } from '../../../src/api/inspector/queries.js';
import type { RecordedEvent } from '../../../src/eventstore/port.js';
import { startProjections, type Projections } from '../../../src/projections/engine/index.js';
import { readModels } from '../../../src/projections/read-models/index.js';
import { inspectorApp, TEST_JWT_SECRET, tokenFor } from '../../support/api-app.js';
import { waitForHead } from '../../support/event-store-fixtures.js';
import { appendParkedPairs, counted, testProjection } from '../../support/projection-test-model.js';
import { writeReplayHistories, type ReplayHistories } from '../../support/replay-histories.js';
import { openWriteSide, type WriteSide } from '../../support/write-side.js';

const admin = tokenFor('ada', ['admin']);
const customer = tokenFor('alice', ['customer']);
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

interface Answer {
  readonly status: number;
  readonly headers: Record<string, unknown>;
  readonly body: Record<string, unknown> & { error?: { code: string; message: string; details?: Record<string, unknown> } };
}

type Body = Record<string, unknown>;

const call = async (app: FastifyInstance, method: 'GET' | 'POST', url: string, token?: string, payload?: unknown): Promise<Answer> => {
  const response = await app.inject({
    method,
    url,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
  });
  return { status: response.statusCode, headers: response.headers, body: response.json() };
};

const get = (app: FastifyInstance, url: string, token: string | undefined = admin) => call(app, 'GET', url, token);

const allEvents = async (side: WriteSide): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const event of side.store.readAll()) events.push(event);
  return events;
};

describe('the inspector API', () => {
  let side: WriteSide;
  let histories: ReplayHistories;
  let engine: Projections;
  let app: FastifyInstance;
  let bare: FastifyInstance;
  let cured = false;
  const parking = testProjection({ name: 'inspector_parking', isCured: () => cured });
  const projections = [...readModels, parking];

  const appWith = async (inspector: boolean): Promise<FastifyInstance> => {
    const built = inspectorApp(side, projections, { inspector });
    await built.ready();
    return built;
  };

  beforeAll(async () => {
    side = await openWriteSide('inspector_api', 'postgres');
    histories = await writeReplayHistories(side);
    // Two poisoned events the test model parks (one to retry, one to skip), each with an event waiting behind it.
    const last = await appendParkedPairs(side.store);
    engine = await startProjections({ handle: side.handle, store: side.store, projections, logger: quiet, tuning: { retryBaseMs: 5, idlePollMs: 100 } });
    await engine.waitFor(projections.map((p) => p.name), last, { timeoutMs: 60_000 });
    app = await appWith(true);
    bare = await appWith(false);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await bare?.close();
    await engine?.stop();
    await side?.close();
  });

  it('requires an admin bearer token on every data route, before anything else (401, 403), coded JSON', async () => {
    const routes: Array<['GET' | 'POST', string]> = [
      ['GET', '/inspector/api/session'],
      ['GET', '/inspector/api/search?q=order-'],
      ['GET', '/inspector/api/events/recent'],
      ['GET', '/inspector/api/streams/order-r-declined/timeline'],
      ['GET', '/inspector/api/streams/order-r-declined/story'],
      ['GET', '/inspector/api/orders/r-declined/story'],
      ['GET', '/inspector/api/projections'],
      ['GET', '/inspector/api/projections/inspector_parking/parked'],
      ['POST', '/inspector/api/projections/inspector_parking/parked/1/retry'],
      ['POST', '/inspector/api/projections/inspector_parking/parked/1/skip'],
      ['GET', '/inspector/api/projections/orders/lineage/r-declined'],
      ['GET', '/inspector/api/no-such-route'],
    ];
    const expired = tokenFor('ada', ['admin'], TEST_JWT_SECRET, -10);
    const otherSecret = tokenFor('ada', ['admin'], 'another-secret-0123456789abcdef0123456789');
    for (const [method, url] of routes) {
      const payload = method === 'POST' ? { confirm: true } : undefined;
      for (const token of [undefined, 'not-a-jwt', expired, otherSecret]) {
        const answer = await call(app, method, url, token, payload);
        expect([url, answer.status, answer.body.error?.code]).toEqual([url, 401, 'UNAUTHENTICATED']);
        expect(answer.headers['www-authenticate']).toBe('Bearer');
        expect(Object.keys(answer.body)).toEqual(['error']);
      }
      const refused = await call(app, method, url, customer, payload);
      expect([url, refused.status, refused.body.error?.code]).toEqual([url, 403, 'FORBIDDEN']);
      expect(refused.body.error?.message).toMatch(/requires the role admin/);
    }
    // An unauthenticated POST is refused before its body is read (a body that is not even JSON).
    const raw = await app.inject({ method: 'POST', url: '/inspector/api/projections/inspector_parking/parked/1/skip', headers: { 'content-type': 'application/json' }, payload: '{nope' });
    expect([raw.statusCode, raw.json()]).toEqual([401, { error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('bearer token') } }]);

    const session = await get(app, '/inspector/api/session');
    expect(session.body).toEqual({ subject: 'ada', roles: ['admin'], expiresAt: expect.any(String), available: true });
    const unknown = await get(app, '/inspector/api/no-such-route');
    expect([unknown.status, unknown.body.error?.code]).toEqual([404, 'KEEL_ERR_VALIDATION']);
    // The API's headers on data: never cached, nothing rendered.
    expect(session.headers['cache-control']).toBe('no-store');
    expect(session.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('serves the page and its files to anyone, from Keel only, under a strict CSP', async () => {
    const page = await app.inject('/inspector');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toMatch(/https?:/);
    // Every file the page loads is Keel's; no inline script or style.
    const sources = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(sources).toEqual(['data:,', '/inspector/inspector.css', '/inspector/vendor/d3-hierarchy.min.js', '/inspector/inspector.js']);
    expect(page.body).not.toMatch(/<script>|<style|style="/);
    for (const url of sources.slice(1)) {
      const file = await app.inject(url ?? '');
      expect([url, file.statusCode]).toEqual([url, 200]);
      expect(file.headers['content-security-policy']).toBe(csp);
    }
    const d3 = await app.inject('/inspector/vendor/d3-hierarchy.min.js');
    expect(d3.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(d3.body).toContain('d3-hierarchy');
    expect((await app.inject('/inspector/')).statusCode).toBe(200);
  });

  it('searches by stream id prefix, exact event type and id (correlation, order) through the event index', async () => {
    const prefix = await get(app, '/inspector/api/search?q=order-r-declined');
    expect(prefix.status).toBe(200);
    expect(prefix.body).toMatchObject({ matchedAs: 'stream-prefix', truncated: false, events: [] });
    expect(prefix.body.streams).toEqual([expect.objectContaining({ streamId: 'order-r-declined', kind: 'order', lastType: 'OrderCancelled' })]);

    const race = await get(app, '/inspector/api/search?q=order-r-race-');
    expect((race.body.streams as Body[]).map((s) => s.streamId).sort()).toEqual([...histories.race].map((id) => `order-${id}`).sort());

    const type = await get(app, '/inspector/api/search?q=OrderCancelled');
    expect(type.body.matchedAs).toBe('event-type');
    const cancelled = type.body.events as Body[];
    expect(cancelled.length).toBeGreaterThan(3);
    expect(cancelled.every((e) => e.type === 'OrderCancelled')).toBe(true);
    expect(cancelled.map((e) => e.streamId)).toContain('order-r-declined');

    const declined = (await allEvents(side)).filter((e) => e.streamId === 'order-r-declined');
    const correlationId = String(declined[0]?.metadata.correlationId);
    const byCorrelation = await get(app, `/inspector/api/search?q=${encodeURIComponent(correlationId)}`);
    expect(byCorrelation.body.matchedAs).toBe('id');
    const correlated = byCorrelation.body.events as Body[];
    expect(correlated.every((e) => e.correlationId === correlationId)).toBe(true);
    expect(correlated.map((e) => e.type)).toContain('OrderPlaced');

    // An order id: every event naming the order, across its streams (order, inventory, payment).
    const byOrder = await get(app, '/inspector/api/search?q=r-declined');
    const streams = new Set((byOrder.body.streams as Body[]).map((s) => s.streamId));
    expect(streams).toEqual(new Set(['order-r-declined', 'inventory-C', 'payment-r-declined']));
    expect((byOrder.body.events as Body[]).map((e) => e.type)).toEqual(expect.arrayContaining(['OrderPlaced', 'PaymentFailed', 'OrderCancelled']));

    const empty = await get(app, '/inspector/api/search?q=');
    expect([empty.status, empty.body.error?.code]).toEqual([400, 'KEEL_ERR_VALIDATION']);
    const badAfter = await get(app, '/inspector/api/search?q=OrderPlaced&after=x');
    expect([badAfter.status, badAfter.body.error?.code]).toEqual([400, 'KEEL_ERR_REPLAY_BAD_POSITION']);
  });

  it('feeds the newest events with bounded reads, then what arrives after the cursor', async () => {
    const log = await allEvents(side);
    const recent = await get(app, '/inspector/api/events/recent');
    const events = recent.body.events as Body[];
    expect(events.map((e) => e.position)).toEqual(log.slice(-RECENT_LIMIT).map((e) => e.position.toString()));
    expect(recent.body).toMatchObject({ cursor: log.at(-1)?.position.toString(), gap: false });
    // The window search on sparse positions (transaction id << 20): grow, then bisect, reading at most cap + 1 per probe.
    expect((await newestEvents(side.store, 5, 8)).map((e) => e.position)).toEqual(log.slice(-5).map((e) => e.position));
    expect((await newestEvents(side.store, 1, 1)).map((e) => e.position)).toEqual(log.slice(-1).map((e) => e.position));

    const quiet_ = await get(app, `/inspector/api/events/recent?after=${String(recent.body.cursor)}`);
    expect(quiet_.body).toEqual({ events: [], cursor: recent.body.cursor, gap: false });
    const appended = await side.store.append('park-c', [counted(9)]);
    // The feed reads $all, which shows an event once it is final (below the horizon): a projector's
    // checkpoint transaction still open can hold it back for a moment.
    await waitForHead(side.store, appended.position);
    const next = await get(app, `/inspector/api/events/recent?after=${String(recent.body.cursor)}`);
    expect((next.body.events as Body[]).map((e) => [e.streamId, e.type, e.position])).toEqual([['park-c', 'Counted', appended.position.toString()]]);
    expect(next.body.cursor).toBe(appended.position.toString());
    const bad = await get(app, '/inspector/api/events/recent?after=soon');
    expect([bad.status, bad.body.error?.code]).toEqual([400, 'KEEL_ERR_REPLAY_BAD_POSITION']);
  });

  it("gives a stream's timeline: each event with the state after it and the diff", async () => {
    const answer = await get(app, '/inspector/api/streams/order-r-declined/timeline');
    expect(answer.status).toBe(200);
    const steps = answer.body.steps as Array<{ index: number; event: Body; state: Body; changes: Body[] }>;
    expect(answer.body).toMatchObject({ streamId: 'order-r-declined', aggregate: 'order', from: '0', truncated: false, next: null });
    expect(steps.map((s) => s.index)).toEqual(steps.map((_, i) => i));
    expect(steps[0]?.event.type).toBe('OrderPlaced');
    expect(steps[0]?.state).toMatchObject({ status: 'pending' });
    const last = steps.at(-1);
    expect(last?.event.type).toBe('OrderCancelled');
    expect(last?.state).toMatchObject({ status: 'cancelled' });
    expect(last?.changes).toContainEqual({ kind: 'changed', path: 'status', before: 'pending', after: 'cancelled' });
    expect(answer.body.lastRevision).toBe(String(steps.length - 1));

    const from = await get(app, '/inspector/api/streams/order-r-declined/timeline?from=1');
    const later = from.body.steps as Array<{ index: number; state: Body }>;
    expect(later.map((s) => s.index)).toEqual(steps.slice(1).map((s) => s.index));
    // The fold still began at revision 0: the same states.
    expect(later.map((s) => s.state)).toEqual(steps.slice(1).map((s) => s.state));

    // A long stream comes in windows (TIMELINE_MAX_STEPS; 3 here), each folded from revision 0.
    const deps = createInspectorDeps({ store: side.store, database: side.handle, projections });
    const whole = await timeline(deps, histories.hotStream);
    expect(whole.steps.length).toBeGreaterThan(6);
    const first = await timeline(deps, histories.hotStream, 0n, 3);
    expect(first).toMatchObject({ from: '0', truncated: true, next: '3' });
    const second = await timeline(deps, histories.hotStream, 3n, 3);
    expect(second).toMatchObject({ from: '3', next: '6' });
    expect([...first.steps, ...second.steps]).toEqual(whole.steps.slice(0, 6));

    const errors = [
      ['/inspector/api/streams/order-r-declined/timeline?from=99', 400, 'KEEL_ERR_REPLAY_BAD_REVISION'],
      ['/inspector/api/streams/order-r-declined/timeline?from=-1', 400, 'KEEL_ERR_REPLAY_BAD_REVISION'],
      ['/inspector/api/streams/order-nope/timeline', 404, 'KEEL_ERR_STREAM_NOT_FOUND'],
      ['/inspector/api/streams/nonsense/timeline', 400, 'KEEL_ERR_REPLAY_UNKNOWN_STREAM_KIND'],
    ] as const;
    for (const [url, status, code] of errors) {
      const refused = await get(app, url);
      expect([url, refused.status, refused.body.error?.code]).toEqual([url, status, code]);
      expect(refused.body.error?.message.length).toBeGreaterThan(10);
    }
  });

  it("tells an order's story: its events across streams, the causation tree and the verdict", async () => {
    const answer = await get(app, '/inspector/api/orders/r-declined/story');
    expect(answer.status).toBe(200);
    const story = answer.body as { verdict: { status: string; text: string; causeId: string | null }; events: Body[]; tree: Array<{ id: string; children: unknown[] }>; indexNeverRan: boolean };
    expect(story.verdict.status).toBe('cancelled');
    expect(story.verdict.text).toMatch(/payment declined/);
    expect(story.verdict.text).toMatch(/PaymentFailed at position \d+/);
    expect(story.events.find((e) => e.id === story.verdict.causeId)?.type).toBe('PaymentFailed');
    expect(story.indexNeverRan).toBe(false);
    expect(answer.body.deadlines).toEqual([{ sku: 'C', expiresAt: expect.any(String), outcome: 'released', setById: expect.any(String) }]);
    const count = (nodes: ReadonlyArray<{ children: unknown[] }>): number => nodes.reduce((n, node) => n + 1 + count(node.children as Array<{ children: unknown[] }>), 0);
    expect(count(story.tree)).toBe(story.events.length);
    expect(new Set(story.events.map((e) => e.streamId))).toEqual(new Set(['order-r-declined', 'inventory-C', 'payment-r-declined']));
    // In position order, bigints as strings.
    const positions = story.events.map((e) => BigInt(String(e.position)));
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));

    const stream = await get(app, `/inspector/api/streams/${histories.hotStream}/story?limit=5`);
    expect(stream.status).toBe(200);
    expect((stream.body.subject as Body).streamId).toBe(histories.hotStream);
    for (const [url, status, code] of [
      ['/inspector/api/orders/nope/story', 404, 'KEEL_ERR_ORDER_NOT_FOUND'],
      ['/inspector/api/streams/product-nope/story', 404, 'KEEL_ERR_STREAM_NOT_FOUND'],
      [`/inspector/api/streams/${histories.hotStream}/story?limit=0`, 400, 'KEEL_ERR_VALIDATION'],
    ] as const) {
      const refused = await get(app, url);
      expect([url, refused.status, refused.body.error?.code]).toEqual([url, status, code]);
    }
  });

  it('shows projection status with lag and parked counts; retry and skip need {"confirm": true}', async () => {
    const status = await get(app, '/inspector/api/projections');
    const list = status.body.projections as Body[];
    expect(list.map((p) => p.name)).toEqual(projections.map((p) => p.name));
    for (const projection of list) {
      expect(projection).toMatchObject({ state: 'running', position: expect.stringMatching(/^\d+$/), head: expect.stringMatching(/^\d+$/), lagEvents: expect.any(Number) });
    }
    expect(list.find((p) => p.name === 'inspector_parking')?.parked).toBe(4);
    expect(list.find((p) => p.name === 'orders')?.parked).toBe(0);

    const parkedUrl = '/inspector/api/projections/inspector_parking/parked';
    const parked = (await get(app, parkedUrl)).body.parked as Array<{ id: string; status: string; key: string; event: Body; error: string | null }>;
    expect(parked.map((p) => [p.status, p.key, p.event.type])).toEqual([
      ['parked', 'park-a', 'Poisoned'],
      ['blocked', 'park-a', 'Counted'],
      ['parked', 'park-b', 'Poisoned'],
      ['blocked', 'park-b', 'Counted'],
    ]);
    const [a, , b] = parked;
    if (a === undefined || b === undefined) throw new Error('parked events missing');
    expect(a.error).toContain('poisoned event');

    // Without the confirmation nothing happens.
    const retryA = `/inspector/api/projections/inspector_parking/parked/${a.id}/retry`;
    for (const payload of [undefined, {}, { confirm: false }, { confirm: 'yes' }]) {
      const refused = await call(app, 'POST', retryA, admin, payload);
      expect([refused.status, refused.body.error?.code]).toEqual([400, 'KEEL_ERR_VALIDATION']);
    }
    expect((await get(app, parkedUrl)).body.parked).toHaveLength(4);

    // Confirmed while the cause persists: it fails again and stays parked.
    const again = await call(app, 'POST', retryA, admin, { confirm: true });
    expect(again.status).toBe(200);
    expect(again.body.result).toMatchObject({ id: a.id, key: 'park-a', outcome: 'failed', released: 0, stillBlocked: 1, error: expect.stringContaining('poisoned') });
    cured = true;
    const applied = await call(app, 'POST', retryA, admin, { confirm: true });
    expect(applied.body.result).toEqual({ id: a.id, position: a.event.position, key: 'park-a', outcome: 'applied', released: 1, stillBlocked: 0, error: null });
    const skipped = await call(app, 'POST', `/inspector/api/projections/inspector_parking/parked/${b.id}/skip`, admin, { confirm: true });
    expect(skipped.body.result).toMatchObject({ id: b.id, key: 'park-b', outcome: 'skipped', released: 1 });
    expect((await get(app, parkedUrl)).body.parked).toEqual([]);

    for (const [method, url, status, code] of [
      ['POST', retryA, 404, 'KEEL_ERR_PARKED_EVENT_NOT_FOUND'],
      ['POST', '/inspector/api/projections/inspector_parking/parked/abc/retry', 400, 'KEEL_ERR_VALIDATION'],
      ['POST', '/inspector/api/projections/nope/parked/1/skip', 404, 'KEEL_ERR_VALIDATION'],
      ['GET', '/inspector/api/projections/nope/parked', 404, 'KEEL_ERR_VALIDATION'],
    ] as const) {
      const refused = await call(app, method, url, admin, method === 'POST' ? { confirm: true } : undefined);
      expect([url, refused.status, refused.body.error?.code]).toEqual([url, status, code]);
    }
  });

  it("traces a read-model row's lineage through the engine's traceKey", async () => {
    const answer = await get(app, '/inspector/api/projections/orders/lineage/r-declined');
    expect(answer.status).toBe(200);
    const events = answer.body.events as Body[];
    expect(answer.body).toMatchObject({ name: 'orders', key: 'r-declined' });
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['OrderPlaced', 'OrderCancelled']));
    expect(events.every((e) => typeof e.position === 'string' && typeof e.streamId === 'string')).toBe(true);
    const unknown = await get(app, '/inspector/api/projections/nope/lineage/x');
    expect([unknown.status, unknown.body.error?.code]).toEqual([404, 'KEEL_ERR_VALIDATION']);
  });

  it('answers 503 where no event store is wired in (after the token check)', async () => {
    expect((await call(bare, 'GET', '/inspector/api/search?q=order-')).status).toBe(401);
    expect((await get(bare, '/inspector/api/search?q=order-', customer)).status).toBe(403);
    const unavailable = await get(bare, '/inspector/api/search?q=order-');
    expect([unavailable.status, unavailable.body.error?.code]).toEqual([503, 'KEEL_ERR_EVENTSTORE_UNAVAILABLE']);
    expect((await get(bare, '/inspector/api/session')).body).toMatchObject({ subject: 'ada', available: false });
    expect((await bare.inject('/inspector')).statusCode).toBe(200);
  });
});
