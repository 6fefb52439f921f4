/**
 * e2e helpers for the GraphQL API: start the real server process (src/main.ts, what `npm start`
 * runs) on a fresh test database and Redis, talk to it with fetch, and look at the event log
 * through the event store on the same database.
 */
import { sql } from 'kysely';
import { openEventStore } from '../../src/eventstore/open.js';
import type { EventStore, RecordedEvent } from '../../src/eventstore/port.js';
import { openDatabase } from '../../src/platform/database.js';
import type { DatabaseHandle } from '../../src/platform/database.js';
import { spawnKeel } from './keel-process.js';
import type { KeelProcess } from './keel-process.js';

export const E2E_JWT_SECRET = 'e2e-api-secret-0123456789abcdef0123456789';

export interface ApiServer {
  readonly url: string;
  readonly keel: KeelProcess;
  /** SIGTERM, then SIGKILL if it does not exit within 10 s. */
  stop(): Promise<void>;
}

export const startApiServer = async (env: Record<string, string>): Promise<ApiServer> => {
  const keel = spawnKeel({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', JWT_SECRET: E2E_JWT_SECRET, ...env });
  const url = await keel.waitForUrl();
  return {
    url,
    keel,
    stop: async () => {
      if (keel.child.exitCode !== null || keel.child.signalCode !== null) return;
      keel.child.kill('SIGTERM');
      await keel.exited(10_000).catch(() => keel.child.kill('SIGKILL'));
    },
  };
};

export interface HttpGraphqlResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: {
    readonly data?: Record<string, unknown> | null;
    readonly errors?: ReadonlyArray<{ readonly message: string; readonly extensions?: Record<string, unknown> }>;
  };
}

export const postGraphql = async (
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  token?: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<HttpGraphqlResponse> => {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
    body: JSON.stringify({ query, ...(variables === undefined ? {} : { variables }) }),
  });
  const body: unknown = await response.json();
  if (!isBody(body)) throw new Error(`POST /graphql answered ${response.status} with ${JSON.stringify(body)}`);
  return { status: response.status, headers: response.headers, body };
};

/** `data` of a request that must succeed: GraphQL errors fail the test, with the body. */
export const graphqlData = async (
  url: string,
  query: string,
  variables: Record<string, unknown>,
  token: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<Record<string, Record<string, unknown>>> => {
  const { body } = await postGraphql(url, query, variables, token, headers);
  if (body.errors !== undefined) throw new Error(`GraphQL errors: ${JSON.stringify(body)}`);
  return (body.data ?? {}) as Record<string, Record<string, unknown>>;
};

const isBody = (value: unknown): value is HttpGraphqlResponse['body'] =>
  typeof value === 'object' && value !== null && ('data' in value || 'errors' in value);

export const errorCodes = (response: HttpGraphqlResponse): unknown[] => (response.body.errors ?? []).map((e) => e.extensions?.code);

/** A reader of the server's event log, through the event store (never through the API). */
export interface EventLog {
  /** Every committed event in `$all`. */
  count(): Promise<number>;
  stream(streamId: string): Promise<RecordedEvent[]>;
  /** Polls the stream until `predicate` holds (the process manager works asynchronously). */
  waitForStream(streamId: string, predicate: (events: RecordedEvent[]) => boolean, timeoutMs?: number): Promise<RecordedEvent[]>;
  close(): Promise<void>;
}

export const openEventLog = async (databaseUrl: string): Promise<EventLog> => {
  const handle: DatabaseHandle = await openDatabase({ databaseUrl, dataDir: '', poolSize: 2 });
  const store: EventStore = await openEventStore(handle);
  const stream = async (streamId: string): Promise<RecordedEvent[]> => {
    const events: RecordedEvent[] = [];
    for await (const event of store.readStream(streamId)) events.push(event);
    return events;
  };
  return {
    // Counted in the table rather than with readAll: readAll stops at the subscription horizon,
    // which any short transaction (a checkpoint write) may briefly hold back.
    count: async () => {
      const { rows } = await sql<{ n: string }>`select count(*)::text as n from keel_events`.execute(handle.db);
      return Number(rows[0]?.n);
    },
    stream,
    waitForStream: async (streamId, predicate, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const events = await stream(streamId);
        if (predicate(events)) return events;
        if (Date.now() > deadline) throw new Error(`${streamId}: condition not met within ${timeoutMs} ms; events: ${events.map((e) => e.type).join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    close: async () => {
      await store.close();
      await handle.close();
    },
  };
};
