/** What the flash-sale harness and its load generator process (./buyers.ts) exchange, as JSON files. */

export interface BuyersSettings {
  /** The API processes, `http://127.0.0.1:<port>`. */
  readonly apis: readonly string[];
  readonly jwtSecret: string;
  readonly customerPrefix: string;
  readonly buyers: number;
  readonly units: number;
  readonly sku: string;
  readonly price: number;
  readonly currency: string;
  /** Epoch ms of the opening: every buyer checks out then. */
  readonly openingAt: number;
  readonly connectionsPerApi: number;
  /** Of every hundred buyers: how many follow their order over a subscription (the rest poll). */
  readonly subscribePercent: number;
  /** Of every hundred: how many send their checkout twice at once and once more after the answer. */
  readonly duplicatePercent: number;
  /** Of every hundred: how many cancel their order `giveUpCancelAfterMs` after placing it. */
  readonly giveUpPercent: number;
  readonly giveUpCancelAfterMs: number;
  readonly pollIntervalMs: number;
  /** Attempts of one checkout (same idempotency key) before the buyer is told it failed. */
  readonly checkoutAttempts: number;
  /** Ms after the opening when buyers stop retrying and waiting. */
  readonly giveUpAfterMs: number;
  readonly resultFile: string;
}

/** One answered request, or one buyer's final answer: ms since the opening, latency, code ('ok' when accepted). */
export interface Sample {
  readonly t: number;
  /** From the request's start (a buyer's click; a queued request's wait for a connection included). */
  readonly latencyMs: number;
  readonly code: string;
  /** From its headers going onto a connection to its answer: the server's time. */
  readonly wireMs?: number;
}

/** `accepted`: the checkout was accepted and the buyer did not wait for the outcome (the overload ramp). */
export type Told = 'confirmed' | 'cancelled' | 'accepted' | 'refused' | 'error' | 'unknown';

export interface BuyerRecord {
  readonly n: number;
  readonly customer: string;
  readonly key: string;
  api: number;
  via: 'subscription' | 'poll' | 'subscription→poll';
  readonly behaviour: 'plain' | 'duplicate' | 'give-up';
  attempts: number;
  orderId?: string;
  /** The order id the simultaneous twin request of a duplicate submitter was answered. */
  duplicateOrderId?: string;
  /** What the re-submission after the answer returned (an order id or an error code). */
  resubmitted?: string;
  acceptedAt?: number;
  told: Told;
  reason?: string | undefined;
  finalAt?: number;
  board?: string;
  readonly errors: string[];
  readonly notes: string[];
}

export interface BuyersResult {
  readonly openingAt: number;
  /** Ms after the opening when the last buyer had a final answer. */
  readonly allAnsweredAt: number;
  readonly board: { readonly firstSoldOutAt: number | null; readonly allSoldAt: number | null };
  readonly records: readonly BuyerRecord[];
  readonly checkouts: readonly Sample[];
  readonly finals: readonly Sample[];
  readonly reads: readonly Sample[];
}

export interface RampSettings {
  readonly apis: readonly string[];
  readonly jwtSecret: string;
  readonly customerPrefix: string;
  readonly sku: string;
  readonly price: number;
  readonly currency: string;
  readonly connectionsPerApi: number;
  /** Checkouts per second of each step, rising. */
  readonly rates: readonly number[];
  readonly stepSeconds: number;
  readonly pauseMs: number;
  /** A step whose accepted p99 passes this, or with any failed request, is the knee. */
  readonly p99LimitMs: number;
  readonly overloadSeconds: number;
  readonly recoverySeconds: number;
  readonly resultFile: string;
}

export interface RampPhase {
  readonly name: string;
  /** Ms from the ramp's start to this phase's. */
  readonly startMs: number;
  readonly rate: number;
  readonly seconds: number;
  readonly sent: number;
  readonly accepted: number;
  readonly acceptedPerSecond: number;
  /** Requests not accepted, by code. */
  readonly failed: Readonly<Record<string, number>>;
  /** Of the accepted requests, from their scheduled time. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Of every request, refused ones included. */
  readonly allP99Ms: number | null;
}

export interface RampResult {
  readonly steps: readonly RampPhase[];
  /** The first rate past the limit (null: none of the rates was). */
  readonly kneeRate: number | null;
  readonly sustainableRate: number;
  readonly overload: RampPhase;
  readonly recovery: RampPhase;
  readonly records: readonly BuyerRecord[];
  readonly checkouts: readonly Sample[];
}
