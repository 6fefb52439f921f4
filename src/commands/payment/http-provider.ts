/**
 * A payment provider reached over HTTP with Keel's protocol (http-protocol.ts): one POST per call,
 * the idempotency key in a header, the answer's shape checked with zod. It never retries: anything
 * but a valid answer or a 409 is KEEL_ERR_PAYMENT_PROVIDER_UNAVAILABLE, which the fulfilment runner
 * retries with the same key (the provider remembers it across our restarts, unlike the in-process fake).
 */
import { KeelError } from '../../platform/errors.js';
import { AUTHORIZATIONS_PATH, authorizationAnswerSchema, IDEMPOTENCY_KEY_HEADER, type AuthorizationBody } from './http-protocol.js';
import type { AuthorizationRequest, AuthorizationResult, PaymentProvider } from './provider.js';

export const DEFAULT_PAYMENT_PROVIDER_TIMEOUT_MS = 10_000;

export interface HttpPaymentProviderOptions {
  /** Base URL (http or https, no credentials); calls go to `<url>/authorizations`. */
  readonly url: string;
  /** Per call, from sending the request to the end of the answer. */
  readonly timeoutMs?: number;
}

/** Why a fetch failed, in a few words: the timeout, the caller giving up, or the socket error's code. */
const failureOf = (error: unknown, timeout: AbortSignal, timeoutMs: number, caller: AbortSignal | undefined): string => {
  if (timeout.aborted) return `no answer within ${timeoutMs} ms`;
  if (caller?.aborted === true) return 'call abandoned by the caller';
  const cause: unknown = error instanceof Error ? error.cause : undefined;
  if (typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string') return cause.code;
  return error instanceof Error ? error.message : String(error);
};

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

export class HttpPaymentProvider implements PaymentProvider {
  /** `<url>/authorizations`. */
  readonly endpoint: string;
  private readonly timeoutMs: number;

  constructor(options: HttpPaymentProviderOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError(`payment provider URL must be http or https, got ${url.protocol}`);
    // fetch refuses URLs with credentials: say so at startup rather than on every call.
    if (url.username !== '' || url.password !== '') throw new RangeError('payment provider URL must not contain credentials');
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${AUTHORIZATIONS_PATH}`;
    this.endpoint = url.toString();
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PAYMENT_PROVIDER_TIMEOUT_MS;
    if (!(Number.isInteger(this.timeoutMs) && this.timeoutMs > 0)) throw new RangeError(`timeoutMs must be a positive integer, got ${this.timeoutMs}`);
  }

  async authorize(request: AuthorizationRequest, signal?: AbortSignal): Promise<AuthorizationResult> {
    const { paymentId, orderId, amount, currency, idempotencyKey } = request;
    const unavailable = (reason: string, details: Record<string, unknown> = {}) =>
      new KeelError('KEEL_ERR_PAYMENT_PROVIDER_UNAVAILABLE', `Payment provider unavailable: ${reason}.`, {
        endpoint: this.endpoint,
        paymentId,
        reason,
        ...details,
      });
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const body: AuthorizationBody = { paymentId, orderId, amount, currency };
    let status: number;
    let text: string;
    try {
      const response = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', [IDEMPOTENCY_KEY_HEADER]: idempotencyKey },
        body: JSON.stringify(body),
        // The timeout covers reading the body too.
        signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw unavailable(failureOf(error, timeout, this.timeoutMs, signal));
    }
    if (status === 409) {
      // Not transient: asking again gets the same 409. The caller sent two requests under one key.
      throw new Error(`Payment provider refused idempotency key "${idempotencyKey}": it was used for a different request (HTTP 409). ${text.slice(0, 200)}`.trim());
    }
    if (status !== 200) throw unavailable(`HTTP ${status}`, { status });
    const answer = authorizationAnswerSchema.safeParse(parseJson(text));
    if (!answer.success) {
      const issue = answer.error.issues[0];
      const where = issue === undefined ? '' : ` (${issue.path.join('.') || 'body'}: ${issue.message})`;
      throw unavailable(`malformed answer${where}`, { status });
    }
    return answer.data;
  }
}
