/**
 * The order-fulfilment process manager paying through HttpPaymentProvider and the fake provider
 * server (a separate HTTP server that remembers idempotency keys across our restarts): an order
 * confirmed end to end, a restart that charges nothing twice, a provider down for a while (the
 * order waits, never cancelled for it), and a provider down past the reservation's deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FulfilmentLogger, FulfilmentRunner } from '../../../src/commands/fulfilment/index.js';
import { HttpPaymentProvider, startFakeProviderServer, type FakeProviderServer } from '../../../src/commands/payment/index.js';
import { createFulfilmentHarness, TTL_MS, type FulfilmentHarness } from '../../support/fulfilment-harness.js';
import { countEvents, openWriteSide, type WriteSide } from '../../support/write-side.js';

/** Keeps the messages logged, by level. */
const recordingLogger = () => {
  const lines = { info: [] as string[], warn: [] as string[], error: [] as string[] };
  const logger: FulfilmentLogger = {
    info: (_obj, msg) => void lines.info.push(msg ?? ''),
    warn: (_obj, msg) => void lines.warn.push(msg ?? ''),
    error: (_obj, msg) => void lines.error.push(msg ?? ''),
  };
  return { lines, logger };
};
const STILL_FAILING = /still failing for a transient reason/;

describe('order fulfilment through the HTTP payment provider', () => {
  let side: WriteSide;
  let h: FulfilmentHarness;
  let server: FakeProviderServer;
  let runner: FulfilmentRunner | undefined;
  const charged = async (paymentId: string) =>
    ((await (await fetch(`${server.url}/charges`)).json()) as string[]).filter((id) => id === paymentId).length;
  const restart = async (options: Parameters<FulfilmentHarness['start']>[1]) => {
    await runner?.stop();
    runner = await h.start(undefined, options);
    return runner;
  };

  beforeAll(async () => {
    side = await openWriteSide('http_payment_fulfilment');
    h = createFulfilmentHarness(side);
    await h.stockUp(['H1', 'H2']);
    server = await startFakeProviderServer({ latencyMs: 5, failureRate: 0 });
  });
  afterAll(async () => {
    await runner?.stop();
    await server.close();
    await side.close();
  });

  it('placed → reserved → paid over HTTP → confirmed, charged once', async () => {
    await restart({ provider: new HttpPaymentProvider({ url: server.url, timeoutMs: 2_000 }) });
    await h.place('http-o1', [{ sku: 'H1', quantity: 2 }]);
    await h.until('http-o1 confirmed', h.statusOf('http-o1', 'confirmed'));
    await h.until('stock committed', async () => (await h.stock('H1')).sold === 2);
    const payment = await h.paymentState('http-o1');
    expect(payment.status === 'authorized' && payment.authorizationCode).toMatch(/^FAKE-AUTH-/);
    expect(await charged('http-o1')).toBe(1);
  });

  it('a restart from position zero with a new provider client charges nothing twice: the provider remembers the key', async () => {
    const head = await side.store.headPosition();
    const current = runner;
    if (current === undefined) throw new Error('no runner');
    await h.until('caught up', async () => current.position() >= head);
    await current.stop();
    runner = undefined;
    const events = await countEvents(side);
    const calls = server.provider.calls;
    const charges = server.provider.charges;
    await side.handle.db.withTables<{ keel_process_checkpoints: { name: string; position: string } }>()
      .updateTable('keel_process_checkpoints').set({ position: '0' }).where('name', '=', 'order-fulfilment').execute();
    const again = await restart({ provider: new HttpPaymentProvider({ url: server.url, timeoutMs: 2_000 }) });
    await h.until('caught up again', async () => again.position() >= head);
    expect(server.provider.calls).toBeGreaterThan(calls);
    expect(server.provider.charges).toBe(charges);
    expect(await countEvents(side)).toBe(events);
  });

  it('a provider down for a while: the payment call is retried past maxAttempts, the order is not cancelled and completes once it answers', async () => {
    const port = server.port;
    await server.close();
    const { lines, logger } = recordingLogger();
    // maxAttempts 1: any other failure would cancel the order after its first attempt.
    await restart({ provider: new HttpPaymentProvider({ url: server.url, timeoutMs: 2_000 }), logger, maxAttempts: 1 });
    await h.place('http-o2', [{ sku: 'H2', quantity: 3 }]);
    await h.until('three failed calls to the provider', async () => lines.warn.filter((m) => STILL_FAILING.test(m)).length >= 3);
    expect((await h.orderState('http-o2')).status).toBe('pending');
    expect((await h.paymentState('http-o2')).status).toBe('requested');
    expect((await h.stock('H2')).reserved).toBe(3);

    server = await startFakeProviderServer({ port, latencyMs: 5, failureRate: 0 });
    await h.until('http-o2 confirmed', h.statusOf('http-o2', 'confirmed'));
    await h.until('stock committed', async () => (await h.stock('H2')).sold === 3);
    expect(await charged('http-o2')).toBe(1);
    expect(lines.error).toEqual([]);
    expect(lines.warn.filter((m) => !STILL_FAILING.test(m))).toEqual([]);
  });

  it('a provider down past the reservation deadline: the sweeper cancels the order and releases its stock; a late charge is refunded', async () => {
    const port = server.port;
    await server.close();
    const { lines, logger } = recordingLogger();
    await restart({ provider: new HttpPaymentProvider({ url: server.url, timeoutMs: 2_000 }), logger, maxAttempts: 1 });
    const soldBefore = (await h.stock('H1')).sold;
    await h.place('http-o3', [{ sku: 'H1', quantity: 4 }]);
    await h.until('a failed call to the provider', async () => lines.warn.some((m) => STILL_FAILING.test(m)));
    expect((await h.orderState('http-o3')).status).toBe('pending');

    h.knobs.clock = new Date(h.knobs.clock.getTime() + TTL_MS + 1_000);
    await h.until('http-o3 expired', h.statusOf('http-o3', 'cancelled'));
    const order = await h.orderState('http-o3');
    expect(order.status === 'cancelled' && order.reason).toBe('expired');
    await h.until('H1 released', async () => (await h.stock('H1')).reserved === 0);
    expect((await h.paymentState('http-o3')).status).toBe('requested');

    // The provider comes back and authorizes the call still being retried: the charge is refunded.
    server = await startFakeProviderServer({ port, latencyMs: 5, failureRate: 0 });
    await h.until('late charge refunded', async () => (await h.paymentState('http-o3')).status === 'refunded');
    expect(await charged('http-o3')).toBe(1);
    expect((await h.orderState('http-o3')).status).toBe('cancelled');
    expect(await h.stock('H1')).toEqual({ received: 10, reserved: 0, sold: soldBefore });
    expect(lines.error).toEqual([]);
  });
});
