/**
 * Load shedding. When this process is overloaded, a request is answered at once, before its body
 * is read or anything runs: HTTP 503, `Retry-After` and a GraphQL-shaped body with
 * `KEEL_ERR_OVERLOADED`. The requests it accepts keep a bounded latency, the backlog (and the
 * memory it holds) stays bounded, and a refused request did nothing, so it may be sent again with
 * the same idempotency key. Without a restart: shedding stops with the first sample below the
 * thresholds.
 *
 * Two triggers. A cap on the requests in flight in this process (OVERLOAD_MAX_IN_FLIGHT): past it a
 * request would only wait (for a pooled connection, in a hot stream's queue), and by Little's law
 * the cap bounds the accepted requests' latency at about cap / throughput. And
 * @fastify/under-pressure, which samples the process every OVERLOAD_SAMPLE_INTERVAL_MS; each sample
 * decides for the next interval. Its signals (each off at 0):
 * - the mean event-loop delay over the interval (OVERLOAD_MAX_EVENT_LOOP_DELAY_MS): how long a ready
 *   callback waits for the loop, that is how far behind the process is;
 * - the event-loop utilization over the interval (OVERLOAD_MAX_EVENT_LOOP_UTILIZATION), off by
 *   default: a process at full utilization may still keep up with bounded latency (the flash sale
 *   showed a 0.98 bound shedding most checkouts of a sale the process was serving), so it says
 *   "busy", not "overloaded";
 * - the V8 heap in use (OVERLOAD_MAX_HEAP_USED_BYTES), off by default: the right bound depends on
 *   the heap limit the process runs with.
 *
 * Never shed: `/health` and `/ready` (a probe must answer: a liveness probe failing on load would
 * get a busy process restarted, and readiness is about dependencies, not load). A WebSocket upgrade
 * is shed like any request (503 before the upgrade; open sockets are not touched), and its socket
 * is then ended: after an upgrade request the HTTP server no longer manages it. under-pressure's own
 * status route is not exposed (`/health` is Keel's).
 */
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { metrics } from '../platform/metrics.js';
import { GRAPHQL_RESPONSE_TYPE, responseMedia } from './graphql/media-types.js';

export interface OverloadSettings {
  /** OVERLOAD_MAX_IN_FLIGHT: HTTP requests this process may be running at once; one more is shed. 0: no cap. */
  readonly maxInFlight: number;
  /** OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: mean event-loop delay (ms) over a sample above which requests are shed; 0: not checked. */
  readonly maxEventLoopDelayMs: number;
  /** OVERLOAD_MAX_EVENT_LOOP_UTILIZATION: event-loop utilization (0-1) over a sample above which requests are shed; 0: not checked. */
  readonly maxEventLoopUtilization: number;
  /** OVERLOAD_MAX_HEAP_USED_BYTES: V8 heap in use above which requests are shed; 0: not checked. */
  readonly maxHeapUsedBytes: number;
  /** OVERLOAD_SAMPLE_INTERVAL_MS: how often the signals are sampled (each sample decides for the next interval). */
  readonly sampleIntervalMs: number;
  /** OVERLOAD_RETRY_AFTER_SECONDS: the least `Retry-After`; each refusal draws a whole number of seconds in [n, 2n]. */
  readonly retryAfterSeconds: number;
}

/** Routes never shed: the probes and the metrics scrape (an overload is when they matter most). */
const NEVER_SHED: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics']);

/** What a shed request gets, as every early refusal of the API: GraphQL's `errors`, coded. */
interface OverloadedBody {
  readonly errors: readonly [
    {
      readonly message: string;
      readonly extensions: { readonly code: 'KEEL_ERR_OVERLOADED'; readonly retryAfterSeconds: number };
    },
  ];
}

/**
 * under-pressure's `pressureHandler` as it behaves: a nullish return lets the request through, any
 * other value is sent with `reply.send` and ends the request's onRequest hooks (its README; its type
 * declares a void return, to which a function returning a value is assignable).
 */
type PressureHandler = (request: FastifyRequest, reply: FastifyReply, type: string, value: number | undefined) => void;

/** Whether any signal is checked (all off: under-pressure is not registered at all). */
export const shedsLoad = (settings: OverloadSettings): boolean =>
  settings.maxInFlight > 0 || samplesLoad(settings);

const samplesLoad = (settings: OverloadSettings): boolean =>
  settings.maxEventLoopDelayMs > 0 || settings.maxEventLoopUtilization > 0 || settings.maxHeapUsedBytes > 0;

/**
 * Registers under-pressure on `app`, the root instance, before any other plugin: it adds its
 * onRequest hook where it is registered (it is not encapsulated), and a plugin context made
 * earlier would not inherit it. Call it after the security headers' hook, so a refusal carries them.
 */
export const registerLoadShedding = (app: FastifyInstance, settings: OverloadSettings): void => {
  if (!shedsLoad(settings)) return;
  const { retryAfterSeconds, sampleIntervalMs } = settings;
  // The first refusal of an episode (none in the two intervals before it) is logged at warn with
  // the signal that tripped; fastify's request log has the rest. One line per episode, not per request.
  let lastShedAt = Number.NEGATIVE_INFINITY;
  const shedTotal = metrics.overloadShed.labels();
  /** Sets the refusal's status and headers and returns its body; undefined for a probe (never shed). */
  const refusal = (request: FastifyRequest, reply: FastifyReply, type: string, value: number | undefined): OverloadedBody | undefined => {
    if (NEVER_SHED.has(request.routeOptions.url ?? '')) return undefined;
    shedTotal.inc();
    const now = Date.now();
    if (now - lastShedAt > 2 * sampleIntervalMs) request.log.warn({ signal: type, value }, 'overloaded: shedding requests with 503 KEEL_ERR_OVERLOADED');
    lastShedAt = now;
    // Spread in [n, 2n]: clients refused at the same moment should not all come back at the same moment.
    const seconds = retryAfterSeconds + Math.floor(Math.random() * (retryAfterSeconds + 1));
    // The media type chosen as the GraphQL plugin chooses it (media-types.ts); its onRequest hook,
    // which would set it, does not run for a refused request. An Accept that allows neither gets
    // JSON: at this point the 503 matters more than a 406.
    void reply
      .code(503)
      .header('retry-after', String(seconds))
      .type(responseMedia(request.headers.accept) === 'graphql-response' ? GRAPHQL_RESPONSE_TYPE : 'application/json; charset=utf-8');
    if (request.headers.upgrade !== undefined) {
      // A WebSocket upgrade request: its socket left the HTTP server's hands when the upgrade
      // began, so nothing would close it after this answer.
      void reply.header('connection', 'close');
      reply.raw.once('finish', () => request.raw.socket.end());
    }
    return {
      errors: [{ message: `The server is overloaded and refused the request before running it; retry in ${seconds} s.`, extensions: { code: 'KEEL_ERR_OVERLOADED', retryAfterSeconds: seconds } }],
    };
  };
  if (settings.maxInFlight > 0) {
    // Requests in flight: past the cap, the backlog would only queue (in the connection pool, in a
    // hot stream's queue) and every request's latency with it. Counted from the first hook to the
    // response's end or the connection's close, whichever comes first.
    let inFlight = 0;
    app.addHook('onRequest', (request, reply, done) => {
      if (inFlight >= settings.maxInFlight) {
        const body = refusal(request, reply, 'inFlight', inFlight);
        if (body !== undefined) {
          void reply.send(body);
          return;
        }
      }
      // A WebSocket upgrade is refused past the cap but not counted: it ends as a socket the
      // response object never hears closing, and its subscriptions are not requests in flight.
      if (request.headers.upgrade !== undefined) {
        done();
        return;
      }
      inFlight++;
      let counted = true;
      reply.raw.once('close', () => {
        if (counted) inFlight--;
        counted = false;
      });
      done();
    });
  }
  if (!samplesLoad(settings)) return;
  const shed: PressureHandler = (request, reply, type, value): OverloadedBody | undefined => refusal(request, reply, type, value);
  void app.register(underPressure, {
    maxEventLoopDelay: settings.maxEventLoopDelayMs,
    maxEventLoopUtilization: settings.maxEventLoopUtilization,
    maxHeapUsedBytes: settings.maxHeapUsedBytes,
    sampleInterval: sampleIntervalMs,
    // Utilization over the last interval; the default ('cumulative') measures it since the plugin
    // was registered, so after an idle hour an overload would never show, and after a busy one
    // shedding would never stop.
    eventLoopUtilizationMode: 'interval',
    pressureHandler: shed,
    exposeStatusRoute: false,
  });
};
