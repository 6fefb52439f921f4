import { KeelError } from '../platform/errors.js';
import type { ExpectedRevision } from './port.js';

const show = (r: ExpectedRevision | bigint | 'no_stream'): string => (typeof r === 'bigint' ? r.toString() : r);

/** The stream was not at the expected revision. `actual` is 'no_stream' when it does not exist. */
export class WrongExpectedRevisionError extends KeelError {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | 'no_stream',
  ) {
    super(
      'KEEL_ERR_WRONG_EXPECTED_REVISION',
      `Stream "${streamId}" is at revision ${show(actual)}, but ${show(expected)} was expected.`,
      { streamId, expected: show(expected), actual: show(actual) },
    );
    this.name = 'WrongExpectedRevisionError';
  }
}

export class StreamDeletedError extends KeelError {
  constructor(readonly streamId: string) {
    super('KEEL_ERR_STREAM_DELETED', `Stream "${streamId}" has been deleted.`, { streamId });
    this.name = 'StreamDeletedError';
  }
}

/** The stream does not exist where it must (readStream itself yields nothing instead). */
export class StreamNotFoundError extends KeelError {
  constructor(readonly streamId: string) {
    super('KEEL_ERR_STREAM_NOT_FOUND', `Stream "${streamId}" does not exist.`, { streamId });
    this.name = 'StreamNotFoundError';
  }
}

export class EventStoreUnavailableError extends KeelError {
  constructor(message: string, cause?: unknown) {
    super('KEEL_ERR_EVENTSTORE_UNAVAILABLE', message);
    this.name = 'EventStoreUnavailableError';
    if (cause !== undefined) this.cause = cause;
  }
}

/** An event id is already stored with a different stream or content: not a retry of the same append. */
export class DuplicateEventIdError extends KeelError {
  constructor(readonly streamId: string, readonly eventId: string) {
    super(
      'KEEL_ERR_DUPLICATE_EVENT_ID',
      `Event id ${eventId} already exists outside this append to "${streamId}".`,
      { streamId, eventId },
    );
    this.name = 'DuplicateEventIdError';
  }
}
