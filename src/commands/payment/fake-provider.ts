/**
 * FAKE: `FakePaymentProvider` stands in for a real payment provider (in development, tests and
 * benchmarks). It is the only fake on the write side. It declines a share of requests
 * (`failureRate`), answers after a configurable latency, and honours idempotency keys the way a
 * real provider does: the same key gets the same answer, and the charge happens once.
 * `configure` changes the latency and decline rate at run time; answers already given are kept.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { AuthorizationRequest, AuthorizationResult, PaymentProvider } from './provider.js';

/** A fixed latency, or one drawn uniformly from [min, max] with `random()`. */
export type LatencyMs = number | { readonly min: number; readonly max: number };

export interface FakePaymentProviderOptions {
  readonly latencyMs?: LatencyMs;
  /** Share of first-time requests declined, 0..1. */
  readonly failureRate?: number;
  /** Source of randomness in [0, 1); inject a deterministic one in tests. */
  readonly random?: () => number;
  /** Waits; defaults to a real timer. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export const DECLINED_REASON = 'card_declined';

/** The options `configure` may change at run time. */
export type FakePaymentProviderSettings = Pick<FakePaymentProviderOptions, 'latencyMs' | 'failureRate'>;

/** An idempotency key came back with a different request: a bug of the caller (HTTP 409 on the wire). */
export class IdempotencyKeyReusedError extends Error {
  constructor(readonly idempotencyKey: string) {
    super(`Idempotency key "${idempotencyKey}" was reused for a different request.`);
    this.name = 'IdempotencyKeyReusedError';
  }
}

const checkOptions = (latency: LatencyMs, failureRate: number): void => {
  if (!(failureRate >= 0 && failureRate <= 1)) {
    throw new RangeError(`failureRate must be within 0..1, got ${failureRate}`);
  }
  const [min, max] = typeof latency === 'number' ? [latency, latency] : [latency.min, latency.max];
  if (!(min >= 0 && max >= min && Number.isFinite(max))) {
    throw new RangeError(`latencyMs must be >= 0 with min <= max, got ${JSON.stringify(latency)}`);
  }
};

const sameRequest = (a: AuthorizationRequest, b: AuthorizationRequest): boolean =>
  a.paymentId === b.paymentId && a.orderId === b.orderId && a.amount === b.amount && a.currency === b.currency;

interface Answer {
  readonly request: AuthorizationRequest;
  readonly result: Promise<AuthorizationResult>;
}

export class FakePaymentProvider implements PaymentProvider {
  private callCount = 0;
  private chargeCount = 0;
  private declineCount = 0;
  /** Payment ids in the order they were charged; one id twice would be a double charge. */
  private readonly charged: string[] = [];

  private latency: LatencyMs;
  private failureRate: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly answers = new Map<string, Answer>();

  constructor(options: FakePaymentProviderOptions = {}) {
    this.latency = options.latencyMs ?? 0;
    this.failureRate = options.failureRate ?? 0;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => delay(ms).then(() => undefined));
    checkOptions(this.latency, this.failureRate);
  }

  /** Every call to `authorize`, replays included. */
  get calls(): number {
    return this.callCount;
  }

  /** Authorizations actually performed: at most one per idempotency key. */
  get charges(): number {
    return this.chargeCount;
  }

  /** Declines decided: at most one per idempotency key. */
  get declines(): number {
    return this.declineCount;
  }

  /** Idempotency keys remembered (each with its one answer). */
  get keys(): number {
    return this.answers.size;
  }

  /** The payment ids charged, in order. */
  get chargedPaymentIds(): readonly string[] {
    return [...this.charged];
  }

  /** The current latency and decline rate. */
  get settings(): { readonly latencyMs: LatencyMs; readonly failureRate: number } {
    return { latencyMs: this.latency, failureRate: this.failureRate };
  }

  /** Changes the latency and/or decline rate of later first-time requests; remembered answers stay. */
  configure(settings: FakePaymentProviderSettings): void {
    const latency = settings.latencyMs ?? this.latency;
    const failureRate = settings.failureRate ?? this.failureRate;
    checkOptions(latency, failureRate);
    this.latency = latency;
    this.failureRate = failureRate;
  }

  authorize(request: AuthorizationRequest): Promise<AuthorizationResult> {
    this.callCount += 1;
    const previous = this.answers.get(request.idempotencyKey);
    if (previous) {
      if (!sameRequest(previous.request, request)) return Promise.reject(new IdempotencyKeyReusedError(request.idempotencyKey));
      return previous.result;
    }
    // Decided now (so concurrent retries with the same key share one answer), revealed after the latency.
    const result = this.decide(request.paymentId);
    this.answers.set(request.idempotencyKey, { request: { ...request }, result });
    return result;
  }

  private async decide(paymentId: string): Promise<AuthorizationResult> {
    const declined = this.random() < this.failureRate;
    const wait = this.drawLatency();
    if (declined) this.declineCount += 1;
    else {
      this.chargeCount += 1;
      this.charged.push(paymentId);
    }
    const result: AuthorizationResult = declined
      ? { status: 'declined', reason: DECLINED_REASON }
      : { status: 'authorized', authorizationCode: `FAKE-AUTH-${String(this.chargeCount).padStart(6, '0')}` };
    if (wait > 0) await this.sleep(wait);
    return result;
  }

  private drawLatency(): number {
    if (typeof this.latency === 'number') return this.latency;
    const { min, max } = this.latency;
    return min + this.random() * (max - min);
  }
}
