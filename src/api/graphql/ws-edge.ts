/**
 * The WebSocket edge: what a graphql-ws socket on /graphql is held to, beyond what mercurius does.
 * Each socket is watched from its first message (a listener mercurius' own runs after, attached
 * by wrapping mercurius' WebSocket route handler):
 *
 * - Every message is held to BODY_LIMIT_BYTES, like an HTTP body: a larger one closes the socket
 *   (4413, reason "KEEL_ERR_BODY_TOO_LARGE: …"). ws itself refuses any message over 1 MiB (1009).
 * - A subscribe message is checked as it arrives, with its variables, which mercurius' hooks never
 *   see: the cost gate (QUERY_MAX_COST, and every validation rule on first sight of a text) and the
 *   input strings (`check`). The verdict is kept by operation id until mercurius starts that
 *   operation, where `admit` (its preSubscriptionExecution hook) refuses it or lets it start.
 * - connection_init: the bearer header is verified and kept; the client (the token's subject,
 *   else the IP) may hold WS_MAX_SOCKETS_PER_CLIENT sockets in this process (one more is closed:
 *   4429, "KEEL_ERR_TOO_MANY_SOCKETS: …"); the socket is closed when its token expires (4401,
 *   "UNAUTHENTICATED: …").
 * - A message that is not one of the protocol's is closed as graphql-ws closes it (4400, reason
 *   "KEEL_ERR_GRAPHQL_VALIDATION: …"): not JSON, not an object, no string `type`; a
 *   subscribe (or the older protocol's start) without a non-empty string `id`, an object `payload`,
 *   a string `payload.query`, `variables` and `extensions` objects or null, `operationName` a
 *   string or null; a connection_init whose payload is not an object or null; a complete without a
 *   string id. On a graphql-transport-ws socket, a type that protocol does not define, too.
 * - Each new subscription (`begin`, called by the resolvers) verifies the header again, so a token
 *   expired or refused since (e.g. revoked) starts nothing, and takes one of the socket's
 *   WS_MAX_SUBSCRIPTIONS_PER_SOCKET slots, freed when the subscription ends.
 */
import type { FastifyRequest } from 'fastify';
import type { GraphQLError } from 'graphql';
import type { RawData, WebSocket } from 'ws';
import { KeelError } from '../../platform/errors.js';
import { metrics } from '../../platform/metrics.js';
import { unauthenticated } from '../auth.js';
import type { Auth } from '../auth.js';
import type { RequestScope } from './context.js';
import { toClientError } from './error-formatter.js';

/** The fields of a subscribe message's payload the checks read. */
export interface SubscribePayload {
  readonly query: unknown;
  readonly variables: unknown;
  readonly operationName: unknown;
}

export interface WsEdgeOptions {
  /** BODY_LIMIT_BYTES: the largest message. */
  readonly maxMessageBytes: number;
  readonly maxSubscriptionsPerSocket: number;
  readonly maxSocketsPerClient: number;
  readonly production: boolean;
  /** Verifies an Authorization header value (auth.ts `authenticate`); never throws. */
  readonly authenticate: (header: unknown) => Auth;
  /**
   * Why a subscribe message must be refused: the client's error (the socket stays), a `close`
   * reason (the message cannot be run at all: closed 4400, e.g. its operation name selects nothing,
   * which mercurius would answer with an uncoded error), or undefined to let it start.
   */
  readonly check: (payload: SubscribePayload) => GraphQLError | WsRefusal | undefined;
  /** The edge's clock, for the connection scope's `now`. */
  readonly clock: () => Date;
}

/** A subscribe message that cannot be run: the socket is closed (4400) with this reason after the code. */
export interface WsRefusal {
  readonly close: string;
}

/** A subscription's slot on its socket. */
export interface SubscriptionHold {
  /** Frees the slot; later calls do nothing. */
  release(): void;
}

/** What a subscription's resolver sees of its socket (`ctx.keelSocket`). */
export interface WsConnection {
  /**
   * For a new subscription: the header verified again (UNAUTHENTICATED once the token expired or
   * is refused) and a slot (KEEL_ERR_TOO_MANY_SUBSCRIPTIONS when the socket holds them all).
   */
  begin(): SubscriptionHold;
}

declare module 'mercurius' {
  interface MercuriusContext {
    /** Subscriptions only: the socket they run on. */
    readonly keelSocket?: WsConnection;
  }
}

/** Close codes: 4xxx are the application's; graphql-ws uses 4401 and 4429 for the same reasons. */
export const WS_CLOSE = { invalidMessage: 4400, unauthorized: 4401, initTimeout: 4408, tooLarge: 4413, tooMany: 4429, internal: 1011 } as const;

/** What a graphql-transport-ws client may send; anything else closes the socket (4400). */
const TRANSPORT_WS_CLIENT_TYPES = new Set(['connection_init', 'ping', 'pong', 'subscribe', 'complete']);

const isObjectOrNull = (value: unknown): boolean => value === undefined || value === null || (typeof value === 'object' && !Array.isArray(value));

/**
 * Why a parsed message breaks the protocol (graphql-ws' own checks, as its server makes them),
 * undefined when it does not. Only the fields the server reads are checked.
 */
const invalidMessage = (message: unknown, protocol: string): string | undefined => {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return 'a message must be a JSON object';
  const type = fieldOf(message, 'type');
  if (typeof type !== 'string') return 'a message must have a string "type"';
  const id = fieldOf(message, 'id');
  const payload = fieldOf(message, 'payload');
  if (type === 'subscribe' || type === 'start') {
    if (typeof id !== 'string' || id === '') return `"${type}" must have a non-empty string "id"`;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return `"${type}" must have an object "payload"`;
    if (typeof fieldOf(payload, 'query') !== 'string') return '"payload.query" must be a string';
    if (!isObjectOrNull(fieldOf(payload, 'variables'))) return '"payload.variables" must be an object or null';
    if (!isObjectOrNull(fieldOf(payload, 'extensions'))) return '"payload.extensions" must be an object or null';
    const operationName = fieldOf(payload, 'operationName');
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return '"payload.operationName" must be a string or null';
    return undefined;
  }
  if (type === 'connection_init' && !isObjectOrNull(payload)) return '"connection_init" payload must be an object or null';
  if ((type === 'complete' || type === 'stop') && typeof id !== 'string') return `"${type}" must have a string "id"`;
  if (protocol === 'graphql-transport-ws' && !TRANSPORT_WS_CLIENT_TYPES.has(type)) return 'a message type graphql-transport-ws does not define';
  return undefined;
};

/**
 * Verdicts waiting for mercurius to start their operation. A message mercurius refuses before
 * that (bad syntax, not a subscription) leaves its verdict behind; the oldest go beyond this many.
 */
const MAX_PENDING_VERDICTS = 256;
/**
 * A socket must send connection_init within this time (graphql-ws' own default), or it is closed
 * (4408): a socket counts towards its client's WS_MAX_SOCKETS_PER_CLIENT only from its
 * connection_init, so sockets that never initialise must not be free to pile up.
 */
export const CONNECTION_INIT_TIMEOUT_MS = 3_000;

/** keel_rate_limit_refusals_total of the WebSocket caps (the GraphQL rate limit's is plugin.ts'). */
const refusals = {
  sockets: metrics.rateLimitRefusals.labels('websocket_sockets'),
  subscriptions: metrics.rateLimitRefusals.labels('websocket_subscriptions'),
};

/** setTimeout's longest delay; a later expiry is re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const fieldOf = (value: unknown, key: string): unknown => (typeof value === 'object' && value !== null ? Reflect.get(value, key) : undefined);

/** `{ authorization }`, `{ Authorization }` or `{ headers: { authorization } }` in connection_init's payload. */
const headerOf = (payload: unknown): unknown => fieldOf(payload, 'authorization') ?? fieldOf(payload, 'Authorization') ?? fieldOf(fieldOf(payload, 'headers'), 'authorization');

const sizeOf = (data: RawData): number => (Array.isArray(data) ? data.reduce((total, chunk) => total + chunk.length, 0) : data.byteLength);
const textOf = (data: RawData): string => {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
};

/** A close reason may not exceed 123 bytes (ws throws): cut at a character boundary. */
const closeReason = (text: string): string => {
  if (Buffer.byteLength(text) <= 123) return text;
  let reason = '';
  for (const character of text) {
    if (Buffer.byteLength(reason + character) > 120) break;
    reason += character;
  }
  return `${reason}…`;
};

const refusal = (code: 'KEEL_ERR_GRAPHQL_VALIDATION', message: string, production: boolean): GraphQLError => toClientError(new KeelError(code, message), production);

class Connection implements WsConnection {
  /** The Authorization header of connection_init, verified again for each new subscription. */
  header: unknown;
  scope: RequestScope | undefined;
  initialised = false;
  /** Set once a close is under way: nothing starts any more. */
  closed = false;
  /** The key it counts under among its client's sockets, once admitted. */
  client: string | undefined;
  /** The token's expiry, ms since the epoch (none: never). */
  expiresAtMs = Number.POSITIVE_INFINITY;
  timer: NodeJS.Timeout | undefined;
  active = 0;
  /** By operation id: the error to refuse it with, or null to let it start. */
  readonly verdicts = new Map<unknown, GraphQLError | null>();

  constructor(
    readonly socket: WebSocket,
    readonly request: FastifyRequest,
    private readonly options: WsEdgeOptions,
  ) {}

  begin(): SubscriptionHold {
    // The socket closes at expiry; until the close is through, nothing new starts either.
    if (Date.now() >= this.expiresAtMs) throw unauthenticated('the token expired');
    const auth = this.options.authenticate(this.header);
    if (auth.kind === 'invalid') throw unauthenticated(auth.reason);
    const max = this.options.maxSubscriptionsPerSocket;
    if (this.active >= max) {
      refusals.subscriptions.inc();
      throw new KeelError('KEEL_ERR_TOO_MANY_SUBSCRIPTIONS', `This WebSocket already holds ${max} subscriptions (WS_MAX_SUBSCRIPTIONS_PER_SOCKET); complete one first.`, { limit: max });
    }
    this.active += 1;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.active -= 1;
      },
    };
  }

  close(code: number, reason: string): void {
    this.closed = true;
    this.socket.close(code, reason);
  }
}

export interface WsEdge {
  /**
   * An onRoute hook: wraps a route's WebSocket handler (@fastify/websocket's `wsHandler`: mercurius'
   * on /graphql), so each socket is watched before that handler sees it.
   */
  watchRoute(route: object): void;
  /** mercurius' `subscription.context`: the connection's scope (`keel`) and socket (`keelSocket`). */
  contextOf(socket: WebSocket): { readonly keel: RequestScope; readonly keelSocket: WsConnection };
  /** mercurius' preSubscriptionExecution hook: throws the client's error when operation `id` is refused. */
  admit(connection: WsConnection | undefined, id: unknown): void;
  /** Closes every socket (shutdown: 1001). */
  closeAll(code: number, reason: string): void;
}

export const createWsEdge = (options: WsEdgeOptions): WsEdge => {
  const connections = new Map<WebSocket, Connection>();
  /** Sockets admitted per client key (`sub:<subject>` or `ip:<address>`). */
  const clients = new Map<string, number>();

  const armExpiry = (connection: Connection): void => {
    // Real time, as the token's verification uses (not the edge's clock).
    const left = connection.expiresAtMs - Date.now();
    if (left <= 0) return connection.close(WS_CLOSE.unauthorized, 'UNAUTHENTICATED: the token expired');
    connection.timer = setTimeout(() => armExpiry(connection), Math.min(left, MAX_TIMER_MS));
    connection.timer.unref();
  };

  const initialise = (connection: Connection, payload: unknown): void => {
    // As graphql-ws: one connection_init per socket.
    if (connection.initialised) return connection.close(WS_CLOSE.tooMany, 'Too many initialisation requests');
    connection.initialised = true;
    clearTimeout(connection.timer);
    const header = headerOf(payload);
    const auth = options.authenticate(header);
    const client = auth.kind === 'user' ? `sub:${auth.subject}` : `ip:${connection.request.ip}`;
    const held = clients.get(client) ?? 0;
    if (held >= options.maxSocketsPerClient) {
      refusals.sockets.inc();
      connection.request.log.info({ code: 'KEEL_ERR_TOO_MANY_SOCKETS', client }, 'WebSocket refused: too many for one client');
      return connection.close(WS_CLOSE.tooMany, `KEEL_ERR_TOO_MANY_SOCKETS: at most ${options.maxSocketsPerClient} WebSockets per client (WS_MAX_SOCKETS_PER_CLIENT)`);
    }
    clients.set(client, held + 1);
    connection.client = client;
    connection.header = header;
    connection.scope = { auth, now: options.clock().toISOString(), requestId: connection.request.id };
    if (auth.kind === 'user') {
      connection.expiresAtMs = auth.expiresAt * 1000;
      armExpiry(connection);
    }
  };

  const duplicate = refusal('KEEL_ERR_GRAPHQL_VALIDATION', 'An operation id was used again before its subscription started; use a new id for each operation.', options.production);
  const record = (connection: Connection, id: unknown, payload: unknown): void => {
    // Before connection_init mercurius refuses the operation itself; once closing, nothing starts.
    if (!connection.initialised || connection.closed) return;
    // Two waiting operations with one id could not be told apart: neither starts.
    if (connection.verdicts.has(id)) {
      connection.verdicts.set(id, duplicate);
      return;
    }
    if (connection.verdicts.size >= MAX_PENDING_VERDICTS) {
      const [oldest] = connection.verdicts.keys();
      connection.verdicts.delete(oldest);
    }
    const verdict = options.check({ query: fieldOf(payload, 'query'), variables: fieldOf(payload, 'variables'), operationName: fieldOf(payload, 'operationName') });
    if (verdict !== undefined && 'close' in verdict) return refuseMessage(connection, verdict.close);
    connection.verdicts.set(id, verdict ?? null);
  };

  /** A message outside the protocol: the socket is closed (4400), as graphql-ws closes it. */
  const refuseMessage = (connection: Connection, why: string): void => {
    connection.request.log.info({ code: 'KEEL_ERR_GRAPHQL_VALIDATION', why }, 'WebSocket message outside the protocol');
    connection.close(WS_CLOSE.invalidMessage, closeReason(`KEEL_ERR_GRAPHQL_VALIDATION: ${why}`));
  };

  const onMessage = (connection: Connection, data: RawData): void => {
    if (connection.closed) return;
    if (sizeOf(data) > options.maxMessageBytes) {
      connection.request.log.info({ code: 'KEEL_ERR_BODY_TOO_LARGE', bytes: sizeOf(data) }, 'WebSocket message larger than BODY_LIMIT_BYTES');
      return connection.close(WS_CLOSE.tooLarge, `KEEL_ERR_BODY_TOO_LARGE: a message may not exceed ${options.maxMessageBytes} bytes (BODY_LIMIT_BYTES)`);
    }
    let message: unknown;
    try {
      message = JSON.parse(textOf(data));
    } catch {
      return refuseMessage(connection, 'a message must be JSON');
    }
    const invalid = invalidMessage(message, connection.socket.protocol);
    if (invalid !== undefined) return refuseMessage(connection, invalid);
    const type = fieldOf(message, 'type');
    if (type === 'connection_init') initialise(connection, fieldOf(message, 'payload'));
    // graphql-transport-ws says "subscribe", the older graphql-ws protocol "start".
    else if (type === 'subscribe' || type === 'start') record(connection, fieldOf(message, 'id'), fieldOf(message, 'payload'));
  };

  const watch = (socket: WebSocket, request: FastifyRequest): void => {
    const connection = new Connection(socket, request, options);
    connections.set(socket, connection);
    // Cleared at connection_init, whose expiry timer then takes its place.
    connection.timer = setTimeout(() => {
      if (!connection.initialised) connection.close(WS_CLOSE.initTimeout, 'Connection initialisation timeout');
    }, CONNECTION_INIT_TIMEOUT_MS);
    connection.timer.unref();
    socket.on('message', (data: RawData) => {
      try {
        onMessage(connection, data);
      } catch (error) {
        // A throw here would reach ws' receiver; the socket cannot be trusted to go on.
        request.log.error({ err: error }, 'unexpected error checking a WebSocket message');
        connection.close(WS_CLOSE.internal, 'KEEL_ERR_INTERNAL');
      }
    });
    socket.once('close', () => {
      connection.closed = true;
      connections.delete(socket);
      clearTimeout(connection.timer);
      connection.verdicts.clear();
      if (connection.client === undefined) return;
      const held = (clients.get(connection.client) ?? 1) - 1;
      if (held > 0) clients.set(connection.client, held);
      else clients.delete(connection.client);
    });
  };

  const notSeen = refusal('KEEL_ERR_GRAPHQL_VALIDATION', 'The subscription could not be checked before it started; send it again with a new id.', options.production);
  const closing = refusal('KEEL_ERR_GRAPHQL_VALIDATION', 'The WebSocket is closing: nothing starts on it any more.', options.production);

  return {
    watchRoute: (route) => {
      const handler: unknown = Reflect.get(route, 'wsHandler');
      if (typeof handler !== 'function') return;
      Reflect.set(route, 'wsHandler', function (this: unknown, socket: WebSocket, request: FastifyRequest) {
        watch(socket, request);
        return Reflect.apply(handler, this, [socket, request]);
      });
    },
    contextOf: (socket) => {
      const connection = connections.get(socket);
      if (connection === undefined) throw new Error('a WebSocket the edge does not watch');
      const refused: RequestScope = { auth: { kind: 'invalid', reason: 'the connection was refused' }, now: options.clock().toISOString(), requestId: connection.request.id };
      return { keel: connection.scope ?? refused, keelSocket: connection };
    },
    admit: (connection, id) => {
      if (!(connection instanceof Connection)) throw notSeen;
      if (Date.now() >= connection.expiresAtMs) throw toClientError(unauthenticated('the token expired'), options.production);
      if (connection.closed) throw closing;
      const verdict = connection.verdicts.get(id);
      connection.verdicts.delete(id);
      if (verdict === undefined) throw notSeen;
      if (verdict !== null) {
        // Not the message: GraphQL's wording quotes the variables sent (personal data, maybe); the client has it.
        connection.request.log.info({ code: verdict.extensions.code, field: verdict.extensions.field, operation: id }, 'subscription refused before it started');
        throw verdict;
      }
    },
    closeAll: (code, reason) => {
      for (const connection of connections.values()) connection.close(code, reason);
    },
  };
};
