/** The command line of `npm run bench:flash-sale` (commander), with every size an option. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { RUN_NAMES } from './faults.js';
import type { RunName } from './faults.js';

export interface FlashOptions {
  readonly runs: readonly RunName[];
  readonly buyers: number;
  readonly units: number;
  readonly apis: number;
  readonly connectionsPerApi: number;
  readonly subscribePercent: number;
  readonly pollIntervalMs: number;
  readonly reservationTtlSeconds: number;
  readonly paymentLatencyMs: number;
  readonly paymentFailureRate: number;
  /** Seconds after the opening when buyers stop waiting for an answer. */
  readonly waitSeconds: number;
  /** Seconds after the sale's last accepted checkout by which every order must have its outcome. */
  readonly outcomeBoundSeconds: number;
  readonly overload: boolean;
  /** Checkouts per second of the overload ramp's steps. */
  readonly rampRates: readonly number[];
  /** Environment of every Keel process. */
  readonly keelEnv: Readonly<Record<string, string>>;
}

const integer = (min: number, max: number) => (text: string): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new InvalidArgumentError(`an integer from ${min} to ${max}`);
  return value;
};

const fraction = (text: string): number => {
  const value = Number(text);
  if (!(value >= 0 && value <= 1)) throw new InvalidArgumentError('a number from 0 to 1');
  return value;
};

const rateList = (text: string): number[] => {
  const rates = text.split(',').map((r) => Number(r.trim()));
  if (rates.length === 0 || rates.some((r, i) => !Number.isInteger(r) || r < 1 || r > 100_000 || (i > 0 && r <= (rates[i - 1] ?? 0)))) throw new InvalidArgumentError('rising integers from 1 to 100000, comma-separated');
  return rates;
};

const runList = (text: string): RunName[] => {
  const names = text.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const known: readonly string[] = RUN_NAMES;
  const unknown = names.filter((n) => !known.includes(n));
  if (names.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`one or more of ${RUN_NAMES.join(', ')} (unknown: ${unknown.join(', ') || 'none given'})`);
  return names.filter((n): n is RunName => known.includes(n));
};

export const parseFlashOptions = (argv: readonly string[]): FlashOptions => {
  const program = new Command('npm run bench:flash-sale --')
    .description('The flash sale through the real API, with and without faults; PASS or FAIL for every invariant.')
    .addOption(new Option('--runs <names>', `comma-separated runs: ${RUN_NAMES.join(', ')}`).argParser(runList).default([...RUN_NAMES], 'all of them'))
    .option('--buyers <n>', 'distinct customers checking out at the opening', integer(1, 1_000_000), 10_000)
    .option('--units <n>', 'units of the product on sale', integer(1, 1_000_000), 100)
    .option('--apis <n>', 'API processes (--role api)', integer(1, 8), 2)
    .option('--connections <n>', 'keep-alive connections of the load generator per API process', integer(1, 4_096), 64)
    .option('--subscribe-percent <n>', 'buyers who follow their order over a WebSocket subscription (the rest poll)', integer(0, 100), 20)
    .option('--poll-interval-ms <n>', "a polling buyer's first interval (it grows by a quarter each time, up to 4x)", integer(50, 10_000), 500)
    .option('--reservation-ttl-seconds <n>', 'RESERVATION_TTL_SECONDS of the projector', integer(1, 3_600), 30)
    .option('--payment-latency-ms <n>', 'the fake provider latency outside faults', integer(0, 60_000), 50)
    .option('--payment-failure-rate <x>', 'the fake provider decline rate outside faults', fraction, 0.05)
    .option('--wait-seconds <n>', 'seconds after the opening when buyers stop waiting', integer(5, 3_600), 120)
    .option('--outcome-bound-seconds <n>', "every order's outcome within this many seconds of the last accepted checkout (the invariant's bound)", integer(1, 3_600), 90)
    .option('--overload', 'also run the overload ramp (the knee, then twice the knee)', false)
    .option('--ramp-rates <list>', 'checkouts per second of the ramp steps, rising', rateList, [50, 100, 200, 300, 400, 500, 600, 800, 1_000, 1_200, 1_500, 2_000, 2_500, 3_000])
  // commander prints the help or the error itself, and exits 0 for --help, 1 for a bad option.
  program.parse([...argv], { from: 'user' });
  const o = program.opts<{ runs: RunName[]; buyers: number; units: number; apis: number; connections: number; subscribePercent: number; pollIntervalMs: number; reservationTtlSeconds: number; paymentLatencyMs: number; paymentFailureRate: number; waitSeconds: number; outcomeBoundSeconds: number; overload: boolean; rampRates: number[] }>();
  return {
    runs: o.runs,
    buyers: o.buyers,
    units: o.units,
    apis: o.apis,
    connectionsPerApi: o.connections,
    subscribePercent: o.subscribePercent,
    pollIntervalMs: o.pollIntervalMs,
    reservationTtlSeconds: o.reservationTtlSeconds,
    paymentLatencyMs: o.paymentLatencyMs,
    paymentFailureRate: o.paymentFailureRate,
    waitSeconds: o.waitSeconds,
    outcomeBoundSeconds: o.outcomeBoundSeconds,
    overload: o.overload,
    rampRates: o.rampRates,
    keelEnv: {
      NODE_ENV: 'production',
      // One host (the load generator) sends every buyer's traffic: the per-client socket cap
      // counts them as one client when it keys by address.
      WS_MAX_SOCKETS_PER_CLIENT: '100000',
    },
  };
};
