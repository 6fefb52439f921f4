/**
 * Load shedding (src/api/overload.ts) on a real listening server, over fetch and raw sockets: the
 * app (the real factory, a real PostgreSQL write side) runs in this process, so blocking this
 * process's event loop overloads it. `app.inject` would skip the socket and the timing that make
 * overload what it is.
 *
 * Overload is forced deterministically: a busy loop holds the event loop 100 ms out of every 105,
 * so every under-pressure sample (every 50 ms) sees the loop about 95% busy and its mean delay near
 * 100 ms, far above the thresholds these tests set (utilization 0.5, delay 20 ms), whatever the
 * machine's speed. Requests are served in the gaps. When the busy loop stops, the next samples are
 * idle and requests succeed again: recovery without a restart. The response's shape is checked on
 * an app whose heap bound (1 byte) keeps it shedding for good.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { API_SECURITY_HEADERS } from '../../../src/api/security.js';
import { openApiHarness, tokenFor } from '../../support/api-app.js';
import type { ApiHarness } from '../../support/api-app.js';
import { within } from '../../support/within.js';
import { countEvents, openWriteSide } from '../../support/write-side.js';
import type { WriteSide } from '../../support/write-side.js';

const admin = tokenFor('ada', ['admin']);
const LIST = 'mutation ($input: ListProductInput!) { listProduct(input: $input) { duplicate eventTypes productId } }';
const TYPENAME = '{ __typename }';
/** Every threshold off: each test turns on the one it exercises. */
const OFF = { OVERLOAD_MAX_IN_FLIGHT: '0', OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0', OVERLOAD_MAX_EVENT_LOOP_UTILIZATION: '0', OVERLOAD_MAX_HEAP_USED_BYTES: '0' };

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

const post = async (url: string, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> => {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, ...(variables === undefined ? {} : { variables }) }),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
};

const get = async (url: string, path: string): Promise<Answer> => {
  const response = await fetch(`${url}${path}`);
  return { status: response.status, headers: response.headers, body: await response.json() };
};

/**
 * Holds this process's event loop busy `busyMs` out of every `busyMs + idleMs` until stopped: what
 * an overloaded server's loop looks like to under-pressure's samples.
 */
const saturateEventLoop = (busyMs: number, idleMs: number): { stop(): void } => {
  let stopped = false;
  const burn = (): void => {
    if (stopped) return;
    const until = performance.now() + busyMs;
    while (performance.now() < until) {
      // busy: nothing else runs on this loop meanwhile
    }
    setTimeout(burn, idleMs);
  };
  setTimeout(burn, 0);
  return {
    stop: () => {
      stopped = true;
    },
  };
};

/** Polls `check` every 20 ms until it holds; fails naming `what` after `ms`. */
const eventually = (check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> =>
  within(
    (async () => {
      while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
    })(),
    ms,
    what,
  );

/**
 * Waits for the first samples to pass: with a 50 ms interval the first one covers the app's own
 * startup (building the schema keeps the loop busy), which may read as overload for that interval.
 */
const servesNormally = (url: string): Promise<void> =>
  eventually(async () => (await post(url, TYPENAME)).status === 200, 10_000, 'the app to serve requests before the overload');

/** The refusal every shed request gets; `retryAfter` its header, in [least, 2 × least]. */
const expectShed = (answer: Answer, least: number): void => {
  expect(answer.status).toBe(503);
  const retryAfter = Number(answer.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(least);
  expect(retryAfter).toBeLessThanOrEqual(2 * least);
  expect(answer.body).toEqual({
    errors: [
      {
        message: `The server is overloaded and refused the request before running it; retry in ${retryAfter} s.`,
        extensions: { code: 'KEEL_ERR_OVERLOADED', retryAfterSeconds: retryAfter },
      },
    ],
  });
};

/** A raw WebSocket upgrade request to /graphql: the status line, headers and body the server wrote before it ended the connection. */
const rawUpgrade = (url: string): Promise<string> => {
  const { hostname, port } = new URL(url);
  return within(
    new Promise<string>((resolve, reject) => {
      const socket = net.connect({ host: hostname, port: Number(port) });
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received += chunk));
      // 'end': the server closed its side; the test never closes first.
      socket.on('end', () => {
        socket.destroy();
        resolve(received);
      });
      socket.on('error', reject);
      socket.write(
        [
          'GET /graphql HTTP/1.1',
          `Host: ${hostname}:${port}`,
          'Connection: Upgrade',
          'Upgrade: websocket',
          'Sec-WebSocket-Version: 13',
          `Sec-WebSocket-Key: ${Buffer.from(randomUUID().slice(0, 16)).toString('base64')}`,
          'Sec-WebSocket-Protocol: graphql-transport-ws',
          '',
          '',
        ].join('\r\n'),
      );
    }),
    5000,
    'the server to answer the upgrade and end the connection',
  );
};

describe('load shedding (@fastify/under-pressure) on a listening server', () => {
  let side: WriteSide;
  const harnesses: ApiHarness[] = [];
  /** An app on `side` with `env`, listening on a free loopback port; its URL. */
  const serve = async (env: Record<string, string>): Promise<{ readonly h: ApiHarness; readonly url: string }> => {
    const h = await openApiHarness('api_load_shedding', { side, env });
    harnesses.push(h);
    return { h, url: await h.app.listen({ port: 0, host: '127.0.0.1' }) };
  };
  beforeAll(async () => {
    side = await openWriteSide('api_load_shedding');
  });
  afterAll(async () => {
    for (const h of harnesses) await h.close();
    await side.close();
  });

  it('sheds while the event loop is saturated (utilization), runs nothing it sheds, keeps the probes up, and recovers', async () => {
    const { h, url } = await serve({ ...OFF, OVERLOAD_MAX_EVENT_LOOP_UTILIZATION: '0.5', OVERLOAD_SAMPLE_INTERVAL_MS: '50', OVERLOAD_RETRY_AFTER_SECONDS: '2' });
    await servesNormally(url);
    const input = { productId: `p-${randomUUID()}`, sku: `SKU-${randomUUID()}`, name: 'Flash', price: 999, currency: 'EUR', idempotencyKey: randomUUID() };
    const before = await countEvents(side);
    const load = saturateEventLoop(100, 5);
    try {
      await eventually(() => h.app.isUnderPressure(), 10_000, 'under-pressure to see the saturated loop');
      expectShed(await post(url, TYPENAME), 2);
      expectShed(await post(url, LIST, { input }, { authorization: `Bearer ${admin}` }), 2);
      // The probes answer meanwhile, with their usual bodies.
      const health = await get(url, '/health');
      expect([health.status, health.body]).toEqual([200, { status: 'ok' }]);
      const ready = await get(url, '/ready');
      expect([ready.status, ready.body]).toEqual([200, { status: 'ok' }]);
      // Still overloaded after all that: the answers above were given under pressure.
      expect(h.app.isUnderPressure()).toBe(true);
    } finally {
      load.stop();
    }
    // The shed mutation ran nothing.
    expect(await countEvents(side)).toBe(before);
    // Recovery without a restart: once a sample is idle, requests are served again.
    await eventually(async () => (await post(url, TYPENAME)).status === 200, 10_000, 'requests to succeed again after the overload');
    // The refused mutation sent again with its idempotency key runs now, for the first time.
    const again = await post(url, LIST, { input }, { authorization: `Bearer ${admin}` });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ data: { listProduct: { duplicate: false, eventTypes: ['ProductListed'], productId: input.productId } } });
  });

  it('sheds while the mean event-loop delay is above its bound, and recovers', async () => {
    const { h, url } = await serve({ ...OFF, OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '20', OVERLOAD_SAMPLE_INTERVAL_MS: '50', OVERLOAD_RETRY_AFTER_SECONDS: '1' });
    await servesNormally(url);
    const load = saturateEventLoop(100, 5);
    try {
      await eventually(() => h.app.isUnderPressure(), 10_000, 'under-pressure to see the delayed loop');
      expectShed(await post(url, TYPENAME), 1);
      expect((await get(url, '/health')).status).toBe(200);
      expect(h.app.memoryUsage().eventLoopDelay).toBeGreaterThan(20);
    } finally {
      load.stop();
    }
    await eventually(async () => (await post(url, TYPENAME)).status === 200, 10_000, 'requests to succeed again after the overload');
  });

  it('answers like every early refusal: media type from Accept, security headers; WebSocket upgrades get 503 and a closed connection', async () => {
    // Heap in use above 1 byte: overloaded from the first sample on, for good.
    const { h, url } = await serve({ ...OFF, OVERLOAD_MAX_HEAP_USED_BYTES: '1', OVERLOAD_SAMPLE_INTERVAL_MS: '10', OVERLOAD_RETRY_AFTER_SECONDS: '3' });
    await eventually(() => h.app.isUnderPressure(), 5000, 'the first sample');

    const json = await post(url, TYPENAME);
    expectShed(json, 3);
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) expect(json.headers.get(name), name).toBe(value);
    const graphqlResponse = await post(url, TYPENAME, undefined, { accept: 'application/graphql-response+json' });
    expectShed(graphqlResponse, 3);
    expect(graphqlResponse.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    // Every route but the probes: a GET query, an unknown path.
    expectShed(await get(url, `/graphql?query=${encodeURIComponent(TYPENAME)}`), 3);
    expectShed(await get(url, '/no-such-route'), 3);
    expect((await get(url, '/health')).status).toBe(200);
    expect((await get(url, '/ready')).status).toBe(200);

    // A WebSocket client sees the 503 (and Retry-After) instead of the upgrade.
    const refused = await within(
      new Promise<{ status: number | undefined; retryAfter: string | string[] | undefined }>((resolve, reject) => {
        const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
        socket.on('unexpected-response', (request, response) => {
          resolve({ status: response.statusCode, retryAfter: response.headers['retry-after'] });
          request.destroy();
        });
        socket.on('open', () => reject(new Error('the upgrade was accepted')));
        socket.on('error', () => {});
      }),
      5000,
      'the WebSocket upgrade to be refused',
    );
    expect(refused.status).toBe(503);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(3);
    // The server ends the upgrade's connection itself (nothing else would: the HTTP server gave it up).
    const raw = await rawUpgrade(url);
    expect(raw).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(raw.toLowerCase()).toContain('\r\nconnection: close\r\n');
    expect(raw).toContain('"code":"KEEL_ERR_OVERLOADED"');
  });

  it('sheds past OVERLOAD_MAX_IN_FLIGHT requests in flight, keeps the probes up, and serves again once they end', async () => {
    const { url } = await serve({ ...OFF, OVERLOAD_MAX_IN_FLIGHT: '2', OVERLOAD_RETRY_AFTER_SECONDS: '1' });
    const { port } = new URL(url);
    // Two requests in flight: their headers sent, their bodies not yet (the server waits for them).
    const held = await Promise.all(
      [1, 2].map(
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const socket = net.connect({ host: '127.0.0.1', port: Number(port) }, () => {
              socket.write(`POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{`);
              resolve(socket);
            });
            socket.on('error', reject);
          }),
      ),
    );
    try {
      await eventually(async () => (await post(url, TYPENAME)).status === 503, 5_000, 'a third request to be shed');
      expectShed(await post(url, TYPENAME), 1);
      expect((await get(url, '/health')).status).toBe(200);
      expect((await get(url, '/ready')).status).toBe(200);
    } finally {
      for (const socket of held) socket.destroy();
    }
    // A closed connection ends its request: the count goes back down, nothing stays shed.
    await eventually(async () => (await post(url, TYPENAME)).status === 200, 5_000, 'requests to be served once the held ones ended');
    // Open WebSockets are not requests in flight: three of them leave the cap of two free.
    const sockets = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
            socket.once('open', () => resolve(socket));
            socket.once('error', reject);
          }),
      ),
    );
    try {
      expect((await post(url, TYPENAME)).status).toBe(200);
    } finally {
      for (const socket of sockets) socket.close();
    }
  });

  it('registers nothing when every threshold is 0', async () => {
    const { h, url } = await serve(OFF);
    expect(h.app.hasDecorator('isUnderPressure')).toBe(false);
    expect((await post(url, TYPENAME)).status).toBe(200);
  });
});
