/**
 * The buyers' side of the wire: GraphQL over HTTP on undici keep-alive pools (one per API
 * process), and graphql-ws subscriptions over WebSocket, as a front end would use them. Every
 * answer is classified once: data, a coded GraphQL error, an HTTP refusal, or a transport error.
 */
import diagnostics from 'node:diagnostics_channel';
import { Pool } from 'undici';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * When each request's headers went onto a connection (undici's `undici:client:sendHeaders`
 * channel), by the `x-flash-request` header this client sets: a request waits in the pool's queue
 * while every connection is busy, and its time on the wire starts only then.
 */
const sentAt = new Map<string, number>();
const REQUEST_HEADER = /\r\nx-flash-request: (\d+)\r\n/i;
diagnostics.subscribe('undici:client:sendHeaders', (message) => {
  const headers = typeof message === 'object' && message !== null && 'headers' in message && typeof message.headers === 'string' ? message.headers : '';
  const id = REQUEST_HEADER.exec(headers)?.[1];
  if (id !== undefined) sentAt.set(id, performance.now());
});
let requests = 0;

export type Answer =
  | { readonly kind: 'data'; readonly status: number; readonly data: Readonly<Record<string, unknown>>; readonly wireMs?: number }
  /** A coded error: GraphQL `extensions.code`, or an HTTP status without one (`HTTP_<status>`). */
  | { readonly kind: 'refused'; readonly status: number; readonly code: string; readonly message: string; readonly retryAfterSeconds: number | undefined; readonly wireMs?: number }
  /** No answer: the connection failed, was reset or timed out (the request may or may not have run). */
  | { readonly kind: 'transport'; readonly code: string; readonly message: string };

const assertLoopback = (url: string): void => {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== '[::1]' && host !== 'localhost') throw new Error(`load is only sent to 127.0.0.1 or ::1, not ${url}`);
};

const recordOf = (value: unknown): Readonly<Record<string, unknown>> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Readonly<Record<string, unknown>>) : undefined;

const classify = (status: number, body: unknown, retryAfter: string | string[] | undefined): Answer => {
  const record = recordOf(body);
  const errors = Array.isArray(record?.errors) ? record.errors : [];
  const first = recordOf(errors[0]);
  const header = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  const retryAfterSeconds = header === undefined || !/^\d+$/.test(header) ? undefined : Number(header);
  if (first !== undefined) {
    const code = recordOf(first.extensions)?.code;
    return { kind: 'refused', status, code: typeof code === 'string' ? code : `HTTP_${status}`, message: String(first.message ?? ''), retryAfterSeconds };
  }
  const data = recordOf(record?.data);
  if (status === 200 && data !== undefined) return { kind: 'data', status, data };
  return { kind: 'refused', status, code: `HTTP_${status}`, message: JSON.stringify(body).slice(0, 200), retryAfterSeconds };
};

export interface GraphqlClient {
  readonly url: string;
  post(query: string, variables: Readonly<Record<string, unknown>>, token: string | undefined, timeoutMs?: number): Promise<Answer>;
  close(): Promise<void>;
}

export const graphqlClient = (url: string, connections: number): GraphqlClient => {
  assertLoopback(url);
  const pool = new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 30_000, connect: { timeout: 5_000 } });
  return {
    url,
    post: async (query, variables, token, timeoutMs = 30_000) => {
      const id = String(++requests);
      try {
        const response = await pool.request({
          path: '/graphql',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-flash-request': id, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
          body: JSON.stringify({ query, variables }),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        const text = await response.body.text();
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        const answer = classify(response.statusCode, body, response.headers['retry-after']);
        const sent = sentAt.get(id);
        return sent === undefined || answer.kind === 'transport' ? answer : { ...answer, wireMs: performance.now() - sent };
      } catch (error) {
        const code = recordOf(error)?.code;
        return { kind: 'transport', code: typeof code === 'string' ? code : 'UND_ERR', message: error instanceof Error ? error.message : String(error) };
      } finally {
        sentAt.delete(id);
      }
    },
    close: () => pool.close(),
  };
};

/**
 * One subscription on a socket of its own (a buyer's browser tab): resolves with the first result
 * for which `done` holds, or rejects when the socket fails or `timeoutMs` passes.
 */
export const subscribeUntil = (
  httpUrl: string,
  token: string,
  query: string,
  variables: Readonly<Record<string, unknown>>,
  done: (data: Readonly<Record<string, unknown>>) => boolean,
  timeoutMs: number,
): Promise<Readonly<Record<string, unknown>>> => {
  assertLoopback(httpUrl);
  const client = createClient({
    url: `${httpUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
  });
  return new Promise<Readonly<Record<string, unknown>>>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop();
      void client.dispose();
      outcome();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`no final result within ${timeoutMs} ms`))), timeoutMs);
    const stop = client.subscribe(
      { query, variables: { ...variables } },
      {
        next: (result) => {
          const data = recordOf(result.data);
          if (result.errors !== undefined && result.errors.length > 0) {
            const code = recordOf(result.errors[0]?.extensions)?.code;
            finish(() => reject(new Error(`subscription error ${typeof code === 'string' ? code : ''}: ${result.errors?.[0]?.message ?? ''}`)));
          } else if (data !== undefined && done(data)) finish(() => resolve(data));
        },
        error: (error) => finish(() => reject(error instanceof Error ? error : new Error(`socket closed: ${String(recordOf(error)?.code ?? '')} ${String(recordOf(error)?.reason ?? '')}`))),
        complete: () => finish(() => reject(new Error('subscription completed without a final result'))),
      },
    );
  });
};
