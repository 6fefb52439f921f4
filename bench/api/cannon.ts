/**
 * The load generator of the api workload: autocannon (programmatic) against 127.0.0.1 for a fixed
 * duration after a short warm-up, every response checked (HTTP 200 and no `"errors"` in the body),
 * the request bodies taken in turn from a fixed list so ids vary across requests.
 */
import autocannon from 'autocannon';
import type { RawRequest, Result } from 'autocannon';

export interface CannonSettings {
  readonly connections: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  /** Seconds before autocannon counts a request as timed out. */
  readonly timeoutSeconds: number;
}

export interface CannonRun {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number; readonly average: number };
  /** Transport errors (including timeouts), non-2xx answers and 200s whose body holds GraphQL errors. */
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly graphqlErrors: number;
  readonly statusCodes: Readonly<Record<string, number>>;
  /** Up to three bodies of failed responses. */
  readonly firstFailures: readonly string[];
}

export interface CannonTarget {
  /** `http://127.0.0.1:<port>`; anything else is refused. */
  readonly url: string;
  readonly token?: string;
  /** The n-th request's body (n counts from 0 across all connections). */
  readonly body: (n: number) => string;
}

const assertLoopback = (url: string): void => {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`the api bench only loads 127.0.0.1, not ${url}`);
};

const once = async (target: CannonTarget, duration: number, settings: CannonSettings): Promise<{ result: Result; graphqlErrors: number; failures: string[] }> => {
  let n = 0;
  let graphqlErrors = 0;
  const failures: string[] = [];
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(target.token === undefined ? {} : { authorization: `Bearer ${target.token}` }),
  };
  const result = await autocannon({
    url: `${target.url}/graphql`,
    connections: settings.connections,
    duration,
    timeout: settings.timeoutSeconds,
    requests: [
      {
        method: 'POST',
        path: '/graphql',
        headers,
        setupRequest: (request: RawRequest) => ({ ...request, body: target.body(n++) }),
        onResponse: (status, body) => {
          // A GraphQL failure can come with 200 (an execution error): look at the body too.
          if (status === 200 && !body.includes('"errors"')) return;
          if (status === 200) graphqlErrors++;
          if (failures.length < 3) failures.push(`${status} ${body.slice(0, 300)}`);
        },
      },
    ],
  });
  return { result, graphqlErrors, failures };
};

export const runCannon = async (target: CannonTarget, settings: CannonSettings): Promise<CannonRun> => {
  assertLoopback(target.url);
  if (settings.warmupSeconds > 0) await once(target, settings.warmupSeconds, settings);
  const { result, graphqlErrors, failures } = await once(target, settings.durationSeconds, settings);
  const requests = result['2xx'] + result.non2xx;
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, stat]) => [code, Number(stat.count)]));
  return {
    requests,
    seconds: result.duration,
    requestsPerSecond: requests / result.duration,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, average: result.latency.average },
    errors: result.errors + result.non2xx + graphqlErrors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    graphqlErrors,
    statusCodes,
    firstFailures: failures,
  };
};
