/**
 * The client's errors → Keel's coded errors. Anything that means "the server cannot be reached or
 * did not answer in time" is EventStoreUnavailableError; those are also the errors after which a
 * subscription resubscribes.
 */
import {
  CancelledError,
  convertToCommandError,
  DeadlineExceededError,
  MaxAppendSizeExceededError,
  NotLeaderError,
  StreamDeletedError as EsdbStreamDeletedError,
  StreamNotFoundError as EsdbStreamNotFoundError,
  TimeoutError,
  UnavailableError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { KeelError } from '../../platform/errors.js';
import {
  DuplicateEventIdError,
  EventStoreUnavailableError,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedRevisionError,
} from '../errors.js';
import type { ExpectedRevision } from '../port.js';

/**
 * A raw gRPC status (the client passes some through, e.g. when fetching server features fails) as
 * the client's own error class; anything else unchanged.
 */
const normalise = (error: unknown): unknown => (error instanceof Error ? convertToCommandError(error) : error);

/** Errors worth retrying on a fresh connection (the client reconnects after them). */
export const isTransient = (raw: unknown): boolean => {
  const error = normalise(raw);
  return (
    error instanceof UnavailableError ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof CancelledError ||
    error instanceof NotLeaderError ||
    // The client wraps a refused or reset TCP connection as UNAVAILABLE; a raw one is the same.
    (error instanceof Error && 'code' in error && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(String(error.code)))
  );
};

export const unavailable = (error: unknown, what = 'The event store cannot be reached.'): EventStoreUnavailableError =>
  new EventStoreUnavailableError(what, error);

/** Maps an error from a read (readStream, readAll, subscribe). */
export const mapReadError = (raw: unknown, streamId?: string): unknown => {
  const error = normalise(raw);
  if (error instanceof EsdbStreamDeletedError) return new StreamDeletedError(streamId ?? error.streamName);
  if (error instanceof EsdbStreamNotFoundError) return new StreamNotFoundError(streamId ?? error.streamName);
  if (isTransient(error)) return unavailable(error);
  return error;
};

/**
 * Maps an error from an append. EventStoreDB refuses an `any` append only when its first event id
 * is already in the stream and the rest do not follow it (a partial re-send): that is a reused event
 * id, as the PostgreSQL adapter reports it, not a revision conflict.
 */
export const mapAppendError = (
  raw: unknown,
  streamId: string,
  expected: ExpectedRevision,
  firstEventId: string | undefined,
): unknown => {
  const error = normalise(raw);
  if (error instanceof WrongExpectedVersionError) {
    if (expected === 'any') return new DuplicateEventIdError(streamId, firstEventId ?? '(unknown)');
    const actual = error.actualVersion;
    return new WrongExpectedRevisionError(streamId, expected, typeof actual === 'bigint' && actual >= 0n ? actual : 'no_stream');
  }
  if (error instanceof MaxAppendSizeExceededError) {
    return new KeelError('KEEL_ERR_APPEND_TOO_LARGE', `The append exceeds the server's maximum of ${error.maxAppendSize} bytes.`, { streamId });
  }
  return mapReadError(error, streamId);
};
