/** A graphql-ws client (the `graphql-transport-ws` protocol) for subscription tests. */
import { createClient } from 'graphql-ws';
import type { Client, FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';

export interface TestSubscription {
  /** The next result (or the error the server sent), within `timeoutMs`. */
  next(timeoutMs?: number): Promise<FormattedExecutionResult | { readonly error: unknown }>;
  close(): Promise<void>;
}

export const wsClient = (httpUrl: string, token?: string): Client =>
  createClient({
    url: `${httpUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token === undefined ? {} : { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
  });

export const subscribe = (client: Client, query: string, variables: Record<string, unknown> = {}): TestSubscription => {
  const received: Array<FormattedExecutionResult | { readonly error: unknown }> = [];
  const waiting: Array<(value: FormattedExecutionResult | { readonly error: unknown }) => void> = [];
  const push = (value: FormattedExecutionResult | { readonly error: unknown }): void => {
    const waiter = waiting.shift();
    if (waiter) waiter(value);
    else received.push(value);
  };
  const stop = client.subscribe({ query, variables }, { next: push, error: (error) => push({ error }), complete: () => {} });
  return {
    next: (timeoutMs = 10_000) => {
      const ready = received.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no subscription result within ${timeoutMs} ms`)), timeoutMs);
        waiting.push((value) => {
          clearTimeout(timer);
          resolve(value);
        });
      });
    },
    close: async () => {
      stop();
      await client.dispose();
    },
  };
};
