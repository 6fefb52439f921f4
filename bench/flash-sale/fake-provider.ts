/**
 * FAKE payment provider as a process of its own (src/commands/payment/fake-provider-server.ts), so
 * it outlives Keel's processes and remembers idempotency keys while they are killed:
 *
 *   PORT=4100 PAYMENT_FAKE_LATENCY_MS=50 PAYMENT_FAKE_FAILURE_RATE=0.05 node --import tsx bench/flash-sale/fake-provider.ts
 *
 * PORT (default 0: a free port), HOST (default 127.0.0.1). Prints one JSON line `{"url": …}` once
 * listening; closes on SIGTERM or SIGINT. Change its behaviour with `PUT <url>/control`.
 */
import { startFakeProviderServer } from '../../src/commands/payment/index.js';

/** The variable as a number in [min, max], its default when unset or empty; exits on a bad value. */
const numberFrom = (name: string, fallback: number, min: number, max: number, integer: boolean): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || !(value >= min && value <= max) || (integer && !Number.isInteger(value))) {
    console.error(`${name}=${JSON.stringify(raw)} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`);
    process.exit(2);
  }
  return value;
};

const server = await startFakeProviderServer({
  port: numberFrom('PORT', 0, 0, 65_535, true),
  host: process.env.HOST || '127.0.0.1',
  latencyMs: numberFrom('PAYMENT_FAKE_LATENCY_MS', 50, 0, 60_000, true),
  failureRate: numberFrom('PAYMENT_FAKE_FAILURE_RATE', 0.05, 0, 1, false),
});
console.log(JSON.stringify({ url: server.url }));

const stop = (): void => {
  server.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
