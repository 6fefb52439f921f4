/**
 * The driver's errors → what Keel makes of them (as esdb/error-mapping.ts does for EventStoreDB).
 * node-postgres and PGlite both raise errors carrying the server's SQLSTATE in `code`; socket
 * failures carry Node's errno codes instead.
 */

import { EventStoreUnavailableError } from '../errors.js';

const field = (error: unknown, name: string): unknown =>
  typeof error === 'object' && error !== null && name in error ? (error as Record<string, unknown>)[name] : undefined;

export const sqlState = (error: unknown): string | undefined => {
  const code = field(error, 'code');
  return typeof code === 'string' ? code : undefined;
};

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const SOCKET_MESSAGES = [
  'Connection terminated',
  'connection error',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
  // node-postgres' client-side `query_timeout` (a DATABASE_URL parameter): the server went silent.
  'Query read timeout',
];

/**
 * True when the query failed because the connection failed (the server went away, restarted,
 * refused us or stopped answering), as opposed to the statement being wrong. Such failures are
 * worth retrying. The API answers them KEEL_ERR_DATABASE_UNAVAILABLE on the read side.
 */
export const isConnectionError = (error: unknown): boolean => {
  // Already mapped by readFailure (a read inside a subscription's page).
  if (error instanceof EventStoreUnavailableError) return true;
  const code = sqlState(error);
  if (code !== undefined) {
    if (SOCKET_CODES.has(code)) return true;
    // 08: connection exception; 57P01-03: admin shutdown, crash shutdown, cannot connect now;
    // 53300: too many connections.
    if (code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code)) return true;
  }
  const message = error instanceof Error ? error.message : '';
  return SOCKET_MESSAGES.some((m) => message.includes(m));
};

/** A concurrent append stored the same event id first: retrying finds the original. */
export const isEventIdViolation = (error: unknown): boolean =>
  sqlState(error) === '23505' && field(error, 'constraint') === 'keel_events_event_id_key';

/** SQLSTATE class 22: the data could not be stored (e.g. a \u0000 in a JSON string). */
export const isDataException = (error: unknown): boolean => sqlState(error)?.startsWith('22') === true;

/**
 * A read's failure as the port reports it: a lost or refused connection is
 * KEEL_ERR_EVENTSTORE_UNAVAILABLE (worth retrying, as for an append), anything else as it came.
 * Before, a read during a PostgreSQL restart surfaced as an internal error (a checkout's price
 * lookup answered KEEL_ERR_INTERNAL, which no client knows to retry).
 */
export const readFailure = (error: unknown): unknown =>
  isConnectionError(error) ? new EventStoreUnavailableError('The event store cannot be reached.', error) : error;
