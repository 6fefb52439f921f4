/**
 * The figures of one run, from what the buyers saw and what the log says: counts by outcome and
 * reason, latency percentiles, the peak request rate, and the series of the chart.
 */
import type { LogFacts } from './invariants.js';
import type { BuyersResult, Sample } from './protocol.js';

export const percentile = (values: readonly number[], p: number): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
};

const countBy = (items: readonly string[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item] = (counts[item] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]));
};

/** A cancellation's recorded reason, in the words a buyer would be given. */
export const reasonOf = (reason: string | undefined): string => {
  if (reason === undefined) return 'unknown';
  if (reason.startsWith('KEEL_ERR_OUT_OF_STOCK')) return 'sold out';
  if (reason.startsWith('payment failed')) return 'payment declined';
  if (reason.includes('expired')) return 'expired';
  if (reason === 'buyer gave up') return 'buyer gave up';
  return reason;
};

export interface RunSummary {
  readonly buyers: number;
  readonly attempts: number;
  readonly accepted: number;
  readonly sold: number;
  readonly confirmed: number;
  readonly cancelledByReason: Readonly<Record<string, number>>;
  readonly refusedByReason: Readonly<Record<string, number>>;
  readonly errorsByCode: Readonly<Record<string, number>>;
  /** A checkout's time on the wire: from its headers going onto a connection to its answer. */
  readonly checkoutMs: { readonly p50: number | null; readonly p95: number | null; readonly p99: number | null; readonly max: number | null };
  /** From the buyer's click: the wait for a free connection in the load generator included. */
  readonly checkoutFromClickMs: { readonly p50: number | null; readonly p95: number | null; readonly p99: number | null; readonly max: number | null };
  readonly finalAnswerMs: { readonly p50: number | null; readonly p95: number | null; readonly p99: number | null; readonly max: number | null };
  readonly allAnsweredMs: number;
  readonly boardFirstSoldOutMs: number | null;
  readonly boardAllSoldMs: number | null;
  readonly peakRequestsPerSecond: number;
  readonly subscribers: number;
  readonly pollers: number;
}

const stats = (values: readonly number[]) => ({
  p50: percentile(values, 50),
  p95: percentile(values, 95),
  p99: percentile(values, 99),
  max: values.length === 0 ? null : Math.max(...values),
});

export const summarize = (result: BuyersResult, facts: LogFacts): RunSummary => {
  const { records } = result;
  const outcomes = [...facts.orders.values()].map((o) => o.outcomes[0]);
  const perSecond = new Map<number, number>();
  for (const sample of [...result.checkouts, ...result.reads]) perSecond.set(Math.floor(sample.t / 1000), (perSecond.get(Math.floor(sample.t / 1000)) ?? 0) + 1);
  return {
    buyers: records.length,
    attempts: result.checkouts.length,
    accepted: records.filter((r) => r.orderId !== undefined).length,
    sold: facts.inventory.status === 'tracked' ? facts.inventory.sold : 0,
    confirmed: outcomes.filter((o) => o?.type === 'OrderConfirmed').length,
    cancelledByReason: countBy(outcomes.filter((o) => o?.type === 'OrderCancelled').map((o) => reasonOf(o?.reason))),
    refusedByReason: countBy(records.filter((r) => r.told === 'refused' || r.told === 'error').map((r) => r.reason ?? 'unknown')),
    errorsByCode: countBy(result.checkouts.filter((s) => s.code !== 'ok').map((s) => s.code)),
    checkoutMs: stats(result.checkouts.flatMap((s) => (s.wireMs === undefined ? [] : [s.wireMs]))),
    checkoutFromClickMs: stats(result.checkouts.map((s) => s.latencyMs)),
    finalAnswerMs: stats(records.flatMap((r) => (r.finalAt === undefined ? [] : [r.finalAt]))),
    allAnsweredMs: result.allAnsweredAt,
    boardFirstSoldOutMs: result.board.firstSoldOutAt,
    boardAllSoldMs: result.board.allSoldAt,
    peakRequestsPerSecond: Math.max(0, ...perSecond.values()),
    subscribers: records.filter((r) => r.via !== 'poll').length,
    pollers: records.filter((r) => r.via === 'poll').length,
  };
};

export interface Buckets {
  readonly bucketSeconds: number;
  readonly seconds: number[];
  readonly requestsPerSecond: number[];
  readonly outcomes: { confirmed: number[]; cancelled: number[]; refused: number[]; errors: number[] };
  readonly p99Ms: (number | null)[];
}

/** The run cut in buckets of `bucketSeconds`: request rate, p99 checkout latency and final answers. */
export const bucketsOf = (result: BuyersResult, bucketSeconds: number): Buckets => {
  const last = Math.max(1, ...result.checkouts.map((s) => s.t), ...result.finals.map((s) => s.t), ...result.reads.map((s) => s.t));
  const count = Math.ceil(last / 1000 / bucketSeconds) + 1;
  const index = (sample: Sample): number => Math.min(count - 1, Math.max(0, Math.floor(sample.t / 1000 / bucketSeconds)));
  const zeros = (): number[] => Array.from({ length: count }, () => 0);
  const requests = zeros();
  const latencies: number[][] = Array.from({ length: count }, () => []);
  for (const sample of [...result.checkouts, ...result.reads]) requests[index(sample)] = (requests[index(sample)] ?? 0) + 1;
  for (const sample of result.checkouts) latencies[index(sample)]?.push(sample.wireMs ?? sample.latencyMs);
  const outcomes = { confirmed: zeros(), cancelled: zeros(), refused: zeros(), errors: zeros() };
  for (const sample of result.finals) {
    const series = sample.code === 'confirmed' ? outcomes.confirmed : sample.code === 'cancelled' ? outcomes.cancelled : sample.code === 'refused' ? outcomes.refused : outcomes.errors;
    series[index(sample)] = (series[index(sample)] ?? 0) + 1;
  }
  return {
    bucketSeconds,
    seconds: Array.from({ length: count }, (_, i) => Math.round(i * bucketSeconds * 100) / 100),
    requestsPerSecond: requests.map((n) => Math.round(n / bucketSeconds)),
    outcomes,
    p99Ms: latencies.map((values) => percentile(values, 99)),
  };
};
