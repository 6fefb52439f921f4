import { describe, expect, it } from 'vitest';
import { FakePaymentProvider, IdempotencyKeyReusedError } from '../../../src/commands/payment/index.js';
import type { AuthorizationRequest } from '../../../src/commands/payment/index.js';

const request = (idempotencyKey: string, amount = 4848): AuthorizationRequest => ({
  paymentId: `pay-${idempotencyKey}`,
  orderId: 'o-1',
  amount,
  currency: 'EUR',
  idempotencyKey,
});

/** Returns the given values in turn (then repeats the last one). */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)] ?? 0;
};

describe('FakePaymentProvider', () => {
  it('authorizes with a code when the draw is above the failure rate', async () => {
    const provider = new FakePaymentProvider({ failureRate: 0.2, random: sequence(0.5) });
    const result = await provider.authorize(request('k1'));
    expect(result).toMatchObject({ status: 'authorized' });
    expect(result.status === 'authorized' && result.authorizationCode).toMatch(/^FAKE-AUTH-/);
    expect({ calls: provider.calls, charges: provider.charges }).toEqual({ calls: 1, charges: 1 });
  });

  it('declines when the draw is below the failure rate, and charges nothing', async () => {
    const provider = new FakePaymentProvider({ failureRate: 0.2, random: sequence(0.1) });
    expect(await provider.authorize(request('k1'))).toEqual({ status: 'declined', reason: 'card_declined' });
    expect(provider.charges).toBe(0);
  });

  it('always authorizes by default and always declines at failureRate 1', async () => {
    expect((await new FakePaymentProvider().authorize(request('k1'))).status).toBe('authorized');
    expect((await new FakePaymentProvider({ failureRate: 1 }).authorize(request('k1'))).status).toBe('declined');
  });

  it('gives the same answer for the same idempotency key and charges once', async () => {
    const provider = new FakePaymentProvider({ failureRate: 0.5, random: sequence(0.9, 0.1, 0.1) });
    const first = await provider.authorize(request('k1'));
    const again = await provider.authorize(request('k1'));
    expect(again).toEqual(first);
    expect({ calls: provider.calls, charges: provider.charges }).toEqual({ calls: 2, charges: 1 });
    // a new key is a new decision (this draw declines)
    expect((await provider.authorize(request('k2'))).status).toBe('declined');
    expect(provider.charges).toBe(1);
  });

  it('answers concurrent retries with one key once, even while the first is in flight', async () => {
    const waits: number[] = [];
    const provider = new FakePaymentProvider({
      latencyMs: 50,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const results = await Promise.all([1, 2, 3].map(() => provider.authorize(request('k1'))));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect({ calls: provider.calls, charges: provider.charges, waits }).toEqual({ calls: 3, charges: 1, waits: [50] });
  });

  it('repeats a decline for the same key', async () => {
    const provider = new FakePaymentProvider({ failureRate: 0.5, random: sequence(0.1, 0.9) });
    await provider.authorize(request('k1'));
    expect((await provider.authorize(request('k1'))).status).toBe('declined');
  });

  it('refuses an idempotency key reused for a different request', async () => {
    const provider = new FakePaymentProvider();
    await provider.authorize(request('k1', 100));
    await expect(provider.authorize(request('k1', 200))).rejects.toThrow(/reused for a different request/);
  });

  it('draws the latency from {min, max} with the injected random', async () => {
    const waits: number[] = [];
    const provider = new FakePaymentProvider({
      latencyMs: { min: 100, max: 300 },
      random: sequence(0.9, 0.5, 0.9, 0),
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await provider.authorize(request('k1'));
    await provider.authorize(request('k2'));
    expect(waits).toEqual([200, 100]);
  });

  it('waits on a real timer when no sleep is injected', async () => {
    const provider = new FakePaymentProvider({ latencyMs: { min: 1, max: 2 } });
    expect((await provider.authorize(request('k1'))).status).toBe('authorized');
  });

  it('refuses a reused key with an IdempotencyKeyReusedError naming it', async () => {
    const provider = new FakePaymentProvider();
    await provider.authorize(request('k1', 100));
    await expect(provider.authorize(request('k1', 200))).rejects.toMatchObject({ name: 'IdempotencyKeyReusedError', idempotencyKey: 'k1' });
    await expect(provider.authorize(request('k1', 200))).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
  });

  it('configure changes the answers to new keys only; it counts declines, keys and the payments charged', async () => {
    const waits: number[] = [];
    const provider = new FakePaymentProvider({ random: sequence(0.5), sleep: async (ms) => void waits.push(ms) });
    const kept = await provider.authorize(request('k1'));
    provider.configure({ failureRate: 1, latencyMs: 2000 });
    expect(provider.settings).toEqual({ failureRate: 1, latencyMs: 2000 });
    expect(await provider.authorize(request('k1'))).toEqual(kept);
    expect((await provider.authorize(request('k2'))).status).toBe('declined');
    provider.configure({ failureRate: 0 });
    expect(provider.settings).toEqual({ failureRate: 0, latencyMs: 2000 });
    expect((await provider.authorize(request('k2'))).status).toBe('declined');
    expect((await provider.authorize(request('k3'))).status).toBe('authorized');
    expect(waits).toEqual([2000, 2000]);
    expect({ calls: provider.calls, charges: provider.charges, declines: provider.declines, keys: provider.keys }).toEqual({ calls: 5, charges: 2, declines: 1, keys: 3 });
    expect(provider.chargedPaymentIds).toEqual(['pay-k1', 'pay-k3']);
  });

  it('configure refuses bad settings and keeps the current ones', () => {
    const provider = new FakePaymentProvider({ failureRate: 0.1, latencyMs: 5 });
    expect(() => provider.configure({ failureRate: 2 })).toThrow(RangeError);
    expect(() => provider.configure({ latencyMs: { min: 10, max: 1 } })).toThrow(RangeError);
    expect(provider.settings).toEqual({ failureRate: 0.1, latencyMs: 5 });
  });

  it.each([
    [{ failureRate: -0.1 }],
    [{ failureRate: 1.5 }],
    [{ failureRate: Number.NaN }],
    [{ latencyMs: -1 }],
    [{ latencyMs: { min: 300, max: 100 } }],
  ])('rejects the options %j', (options) => {
    expect(() => new FakePaymentProvider(options)).toThrow(RangeError);
  });
});
