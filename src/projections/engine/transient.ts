/**
 * Failures that say nothing about the event: the database went away, refused a connection, or
 * aborted the transaction for concurrency (deadlock, serialisation). The engine retries these
 * forever (with backoff) and never parks an event because of them.
 */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const SOCKET_MESSAGES = ['Connection terminated', 'connection error', 'timeout exceeded when trying to connect', 'Connection ended unexpectedly', 'Client has encountered a connection error'];

const codeOf = (error: unknown): string | undefined => {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
};

export const isTransientError = (error: unknown): boolean => {
  const code = codeOf(error);
  if (code !== undefined) {
    if (SOCKET_CODES.has(code)) return true;
    if (code.startsWith('08') || code.startsWith('53') || code.startsWith('57P')) return true;
    if (code === '40001' || code === '40P01') return true;
  }
  const message = error instanceof Error ? error.message : '';
  return SOCKET_MESSAGES.some((m) => message.includes(m));
};

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Backoff before attempt `attempt` (1-based) of a failing batch: 100 ms, 400 ms, 1.6 s, … up to 10 s, jittered. */
export const backoffMs = (attempt: number, baseMs: number): number => Math.min(10_000, baseMs * 4 ** (attempt - 1)) * (0.75 + Math.random() / 2);
