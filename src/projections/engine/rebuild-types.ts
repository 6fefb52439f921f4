/** The rebuild's public types and the state its phases share (rebuild.ts, rebuild-swap.ts). */
import type { EventStore } from '../../eventstore/port.js';
import type { DatabaseHandle } from '../../platform/database.js';
import type { Projection } from '../projection.js';
import type { BatchScope } from './batch-apply.js';
import type { BuildState } from './build-range.js';
import type { TableCheck } from './verify.js';

export type RebuildProgress =
  | { readonly kind: 'started'; readonly name: string; readonly fromGeneration: number; readonly toGeneration: number; readonly schema: string; readonly target: bigint; readonly liveRunnerActive: boolean | null }
  | { readonly kind: 'progress'; readonly events: number; readonly position: bigint; readonly target: bigint; readonly fraction: number; readonly eventsPerSecond: number; readonly etaSeconds: number | null; readonly parked: number }
  | { readonly kind: 'swapping'; readonly position: bigint }
  | { readonly kind: 'swapped'; readonly generation: number; readonly position: bigint; readonly oldSchema: string; readonly tables: readonly TableCheck[]; readonly countsCompared: boolean }
  | { readonly kind: 'dropped'; readonly schemas: readonly string[] };

export interface RebuildOptions {
  readonly handle: DatabaseHandle;
  readonly store: EventStore;
  readonly projection: Projection;
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Drop the kept old generations after a successful swap. */
  readonly dropOld?: boolean;
  /** Swap even if row counts differ (see verify.ts). */
  readonly acceptCountMismatch?: boolean;
  readonly maxBatch?: number;
  readonly maxAttempts?: number;
  readonly signal?: AbortSignal;
}

export interface RebuildResult {
  readonly name: string;
  readonly generation: number;
  readonly version: number;
  readonly position: bigint;
  readonly events: number;
  readonly parked: number;
  readonly seconds: number;
  readonly tables: readonly TableCheck[];
  /** False when no projector ran the live tables, so the build went to the head and counts were only reported. */
  readonly countsCompared: boolean;
  readonly oldSchema: string;
  readonly dropped: readonly string[];
}

/** One rebuild in progress: the generation being built and how far the build must go. */
export interface RebuildRun {
  readonly options: RebuildOptions;
  readonly name: string;
  readonly emit: (progress: RebuildProgress) => void;
  readonly startedAt: number;
  /** The live generation being replaced. */
  readonly fromGeneration: number;
  /** The build: schema `rm_<name>__g<fromGeneration + 1>`. */
  readonly scope: BatchScope;
  readonly state: BuildState;
  /** The live checkpoint, or the head when no projector runs the projection. */
  readonly targetNow: () => Promise<bigint>;
}

export interface Swapped {
  readonly position: bigint;
  readonly oldSchema: string;
  readonly tables: readonly TableCheck[];
  readonly countsCompared: boolean;
}
