/**
 * The load generator's parts, shared by every workload: concurrent workers, per-operation
 * latencies, and the row a workload reports. Nothing here knows about Keel.
 */

/** Runs `workers` async loops at once; worker w gets index w. */
export const runWorkers = async (workers: number, work: (worker: number) => Promise<void>): Promise<void> => {
  await Promise.all(Array.from({ length: workers }, (_, worker) => work(worker)));
};

/** The items of `count` owned by `worker` (item i belongs to worker i % workers): no two workers share one. */
export const itemsOf = (worker: number, workers: number, count: number): number[] => {
  const items: number[] = [];
  for (let i = worker; i < count; i += workers) items.push(i);
  return items;
};

export interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export class Latencies {
  private readonly samples: number[] = [];

  /** Times `operation` and records its duration in ms, whether it resolves or rejects. */
  async time<T>(operation: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await operation();
    } finally {
      this.samples.push(performance.now() - started);
    }
  }

  /** Records a duration measured elsewhere, in ms. */
  record(ms: number): void {
    this.samples.push(ms);
  }

  get count(): number {
    return this.samples.length;
  }

  summary(): LatencySummary {
    const sorted = [...this.samples].sort((a, b) => a - b);
    const at = (q: number): number => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
    return { p50: at(0.5), p99: at(0.99), max: at(1) };
  }
}

/** Elapsed wall time of `work` in seconds, with its result. */
export const timed = async <T>(work: () => Promise<T>): Promise<{ readonly seconds: number; readonly value: T }> => {
  const started = performance.now();
  const value = await work();
  return { seconds: (performance.now() - started) / 1000, value };
};

export const round = (value: number, digits = 2): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** One line of the report. A workload may report several (e.g. readAll and subscribe). */
export interface WorkloadResult {
  readonly workload: string;
  /** Operations issued (appends, commands, reservation attempts, events read). */
  readonly ops: number;
  readonly rate: number;
  readonly rateUnit: 'events/s' | 'ops/s' | 'commands/s' | 'reservations/s' | 'requests/s';
  readonly seconds: number;
  readonly latencyMs?: LatencySummary;
  /** Events this workload appended (the read workload uses the total). */
  readonly eventsAppended: number;
  readonly notes: string;
  /** Everything else worth keeping in the JSON. */
  readonly details: Readonly<Record<string, unknown>>;
}
