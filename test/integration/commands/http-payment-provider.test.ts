/**
 * HttpPaymentProvider against the fake provider server (FAKE of a real provider, but a real HTTP
 * server on a real socket): the protocol's answers, idempotency across calls, and every way of
 * being unavailable (timeout, closed port, 5xx, malformed answers) as KEEL_ERR_PAYMENT_PROVIDER_UNAVAILABLE.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  HttpPaymentProvider,
  startFakeProviderServer,
  type AuthorizationRequest,
  type FakeProviderServer,
} from '../../../src/commands/payment/index.js';
import { KeelError } from '../../../src/platform/errors.js';

const request = (key: string, amount = 4848): AuthorizationRequest => ({
  paymentId: `pay-${key}`,
  orderId: `order-${key}`,
  amount,
  currency: 'EUR',
  idempotencyKey: `pay-${key}`,
});

/** The KeelError `call` rejects with; fails the test if it resolves or rejects otherwise. */
const rejection = async (call: Promise<unknown>): Promise<KeelError> => {
  const outcome = await call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  if (!(outcome.error instanceof KeelError)) throw outcome.error;
  return outcome.error;
};

/** A plain HTTP server answering every request with `status` and `body` (a provider gone wrong). */
const answering = async (status: number, body: string): Promise<{ url: string; close: () => Promise<void> }> => {
  const server: Server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
};

describe('HttpPaymentProvider against the fake provider server', () => {
  let server: FakeProviderServer;
  let provider: HttpPaymentProvider;
  const control = async (settings: object) => {
    const response = await fetch(`${server.url}/control`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(settings) });
    return { status: response.status, body: (await response.json()) as unknown };
  };
  const stats = async () => (await (await fetch(`${server.url}/stats`)).json()) as unknown;
  const charges = async () => (await (await fetch(`${server.url}/charges`)).json()) as unknown;

  beforeAll(async () => {
    server = await startFakeProviderServer({ latencyMs: 0, failureRate: 0 });
    provider = new HttpPaymentProvider({ url: server.url, timeoutMs: 2_000 });
  });
  beforeEach(async () => {
    expect((await control({ latencyMs: 0, failureRate: 0 })).status).toBe(200);
  });
  afterAll(async () => {
    await server.close();
  });

  it('listens on 127.0.0.1 and posts to <url>/authorizations', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(provider.endpoint).toBe(`${server.url}/authorizations`);
    expect(new HttpPaymentProvider({ url: `${server.url}/v1/` }).endpoint).toBe(`${server.url}/v1/authorizations`);
  });

  it('authorized: the code comes back and the provider charged once', async () => {
    const answer = await provider.authorize(request('auth'));
    expect(answer).toEqual({ status: 'authorized', authorizationCode: expect.stringMatching(/^FAKE-AUTH-\d{6}$/) });
    expect(await charges()).toContain('pay-auth');
  });

  it('declined: the reason comes back and nothing is charged', async () => {
    await control({ failureRate: 1 });
    const before = server.provider.charges;
    expect(await provider.authorize(request('decline'))).toEqual({ status: 'declined', reason: 'card_declined' });
    expect(server.provider.charges).toBe(before);
    expect(await charges()).not.toContain('pay-decline');
  });

  it('the same key gets the same answer, and the charge happens once', async () => {
    const first = await provider.authorize(request('same'));
    const again = await Promise.all([1, 2, 3].map(() => provider.authorize(request('same'))));
    for (const answer of again) expect(answer).toEqual(first);
    expect(((await charges()) as string[]).filter((id) => id === 'pay-same')).toEqual(['pay-same']);
  });

  it('a key reused for another request is a 409: a plain Error, not a transient KeelError', async () => {
    await provider.authorize(request('reused', 100));
    const outcome = await provider.authorize(request('reused', 200)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(Error);
    expect(outcome).not.toBeInstanceOf(KeelError);
    expect(String(outcome)).toMatch(/used for a different request \(HTTP 409\)/);
  });

  it('a call that outlives its timeout is unavailable; asking again with the key learns the answer decided then', async () => {
    await control({ latencyMs: 600 });
    const impatient = new HttpPaymentProvider({ url: server.url, timeoutMs: 100 });
    const error = await rejection(impatient.authorize(request('slow')));
    expect(error.code).toBe('KEEL_ERR_PAYMENT_PROVIDER_UNAVAILABLE');
    expect(error.details).toMatchObject({ reason: 'no answer within 100 ms', paymentId: 'pay-slow' });
    // The provider had decided (and charged) already: the retry gets that answer, no second charge.
    const answer = await provider.authorize(request('slow'));
    expect(answer.status).toBe('authorized');
    expect(((await charges()) as string[]).filter((id) => id === 'pay-slow')).toHaveLength(1);
  });

  it('a closed port is unavailable', async () => {
    const gone = await startFakeProviderServer();
    await gone.close();
    const error = await rejection(new HttpPaymentProvider({ url: gone.url }).authorize(request('closed')));
    expect(error.code).toBe('KEEL_ERR_PAYMENT_PROVIDER_UNAVAILABLE');
    expect(error.details.reason).toBe('ECONNREFUSED');
  });

  it('a call the caller abandons (shutdown) is unavailable', async () => {
    await control({ latencyMs: 2_000 });
    const shutdown = new AbortController();
    setTimeout(() => shutdown.abort(), 50);
    const error = await rejection(provider.authorize(request('abandoned'), shutdown.signal));
    expect(error.code).toBe('KEEL_ERR_PAYMENT_PROVIDER_UNAVAILABLE');
    expect(error.details.reason).toBe('call abandoned by the caller');
  });

  it.each([
    ['a 5xx', 503, '{"error":"maintenance"}', 'HTTP 503'],
    ['another status', 400, '{"error":"bad request"}', 'HTTP 400'],
    ['a body that is not JSON', 200, '<html>oops</html>', 'malformed answer'],
    ['an unknown status', 200, '{"status":"pending"}', 'malformed answer'],
    ['an authorization without a code', 200, '{"status":"authorized"}', 'malformed answer'],
  ])('%s is unavailable', async (_what, status, body, reason) => {
    const broken = await answering(status, body);
    try {
      const error = await rejection(new HttpPaymentProvider({ url: broken.url }).authorize(request('broken')));
      expect(error.code).toBe('KEEL_ERR_PAYMENT_PROVIDER_UNAVAILABLE');
      expect(String(error.details.reason)).toContain(reason);
    } finally {
      await broken.close();
    }
  });

  it('control changes the latency and failure rate of new keys; keys already answered keep their answer', async () => {
    const kept = await provider.authorize(request('kept'));
    expect(kept.status).toBe('authorized');
    expect((await control({ failureRate: 1, latencyMs: 800 })).body).toEqual({ failureRate: 1, latencyMs: 800 });

    let started = Date.now();
    expect(await provider.authorize(request('kept'))).toEqual(kept);
    const replayMs = Date.now() - started;
    started = Date.now();
    expect((await provider.authorize(request('after-control'))).status).toBe('declined');
    const newKeyMs = Date.now() - started;
    expect(newKeyMs).toBeGreaterThanOrEqual(790);
    expect(replayMs).toBeLessThan(newKeyMs);

    await control({ failureRate: 0, latencyMs: 0 });
    expect(await provider.authorize(request('after-control'))).toEqual({ status: 'declined', reason: 'card_declined' });
    expect((await control({ failureRate: 1.5 })).status).toBe(400);
  });

  it('stats count calls, charges, declines and keys; charges lists each charged payment once', async () => {
    const s = (await stats()) as { calls: number; charges: number; declines: number; keys: number };
    expect(s).toEqual({ calls: server.provider.calls, charges: server.provider.charges, declines: server.provider.declines, keys: server.provider.keys });
    expect(s.charges + s.declines).toBe(s.keys);
    expect(s.calls).toBeGreaterThan(s.keys);
    const ids = (await charges()) as string[];
    expect(ids).toHaveLength(s.charges);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('refuses a URL it cannot call', () => {
    expect(() => new HttpPaymentProvider({ url: 'ftp://127.0.0.1' })).toThrow(RangeError);
    expect(() => new HttpPaymentProvider({ url: 'http://user:secret@127.0.0.1' })).toThrow(/credentials/);
  });
});
