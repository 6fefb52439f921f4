export interface BackoffPolicy {
  /** Attempts after the first one. */
  readonly maxRetries: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

export const defaultBackoff: BackoffPolicy = { maxRetries: 5, baseMs: 5, maxMs: 250 };

/** "Full jitter": a random delay in [0, min(max, base * 2^attempt)], so retries spread out. */
export const jitteredDelay = (policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number =>
  Math.floor(random() * Math.min(policy.maxMs, policy.baseMs * 2 ** attempt));

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
