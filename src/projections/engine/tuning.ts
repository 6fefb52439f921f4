/** Knobs of the engine, with the defaults `startProjections` uses. */
export interface EngineTuning {
  /** Most events applied in one transaction (catching up). Live batches are whatever has arrived. */
  readonly maxBatch: number;
  /** Attempts of a failing batch before its events are applied one by one and failures parked. */
  readonly maxAttempts: number;
  /** First retry delay of a failing batch; each retry waits 4x longer (jittered), at most 10 s. */
  readonly retryBaseMs: number;
  /** How often a standby tries to take over. */
  readonly standbyRetryMs: number;
  /** A checkpoint-only advance (no matching events) is written at most this often. */
  readonly checkpointIntervalMs: number;
  /** How often a paused projection, or one whose version does not match the code, looks again. */
  readonly idlePollMs: number;
}

export const DEFAULT_TUNING: EngineTuning = {
  maxBatch: 5_000,
  maxAttempts: 3,
  retryBaseMs: 100,
  standbyRetryMs: 1_000,
  checkpointIntervalMs: 100,
  idlePollMs: 1_000,
};

export interface EngineLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
