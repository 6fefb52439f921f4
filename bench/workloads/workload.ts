/** What every workload is: an id for `--only`, its fixed settings, and a run over the event store. */
import type { EventStore } from '../../src/eventstore/port.js';
import type { WorkloadResult } from '../load.js';
import type { BenchEnvironment } from '../setup.js';

export interface WorkloadContext {
  readonly store: EventStore;
  /** Concurrent writers / callers. */
  readonly concurrency: number;
  /** Events appended to the log by the workloads that ran before this one. */
  readonly eventsInLog: number;
  /** A fresh database of its own (dropped and recreated), for workloads that need an exact log. */
  readonly openFresh: (database: string) => Promise<BenchEnvironment>;
}

export interface Workload {
  readonly id: string;
  readonly title: string;
  /** Sizes and knobs, written to the JSON report. */
  readonly settings: Readonly<Record<string, unknown>>;
  run(context: WorkloadContext): Promise<WorkloadResult[]>;
}
