/**
 * Appends through the client (BatchAppend when the server offers it, Append otherwise). The
 * expected revision maps one to one; idempotency by event id is the server's: a re-sent append
 * with the same expectation succeeds without writing (exactly for a revision or `no_stream`, from
 * the server's cache of recent event ids for `any` and `exists`).
 */
import { ANY, NO_STREAM, STREAM_EXISTS } from '@eventstore/db-client';
import type { AppendExpectedRevision, EventStoreDBClient } from '@eventstore/db-client';
import { ValidationError } from '../../platform/errors.js';
import { EventStoreUnavailableError, WrongExpectedRevisionError } from '../errors.js';
import type { AppendResult, EventData, ExpectedRevision } from '../port.js';
import { deadlineFor, within } from './deadline.js';
import { toEsdbEvent } from './encoding.js';
import { mapAppendError } from './error-mapping.js';
import { eventAt, lastOfStream } from './read.js';

const toEsdbExpected = (expected: ExpectedRevision): AppendExpectedRevision => {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'exists':
      return STREAM_EXISTS;
    default:
      return expected;
  }
};

const checkExpected = (expected: ExpectedRevision): void => {
  if (typeof expected === 'bigint' ? expected < 0n : !['any', 'no_stream', 'exists'].includes(expected)) {
    throw new ValidationError('expectedRevision', "must be 'any', 'no_stream', 'exists' or a revision >= 0");
  }
};

/**
 * An empty append writes nothing, so it never reaches the server: it checks the expectation
 * against the stream's last event and reports where the stream is, as the PostgreSQL adapter does.
 */
const appendNothing = async (client: EventStoreDBClient, streamId: string, expected: ExpectedRevision): Promise<AppendResult> => {
  const last = await lastOfStream(client, streamId);
  const actual = last === undefined ? 'no_stream' : last.revision;
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && actual === 'no_stream') ||
    (expected === 'exists' && actual !== 'no_stream') ||
    expected === actual;
  if (!ok) throw new WrongExpectedRevisionError(streamId, expected, actual);
  return { nextExpectedRevision: last?.revision ?? -1n, position: last?.position ?? -1n };
};

/**
 * After a dropped connection the client's first call on it fails with UNAVAILABLE and the next one
 * reconnects. Re-sending the same events (same ids, same expectation) is idempotent on the server,
 * whether or not the failed try was written, so an unavailable append is tried again, briefly.
 */
const UNAVAILABLE_RETRY_MS: readonly number[] = [20, 100, 400];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const append = async (
  client: EventStoreDBClient,
  streamId: string,
  events: readonly EventData[],
  expected: ExpectedRevision,
): Promise<AppendResult> => {
  if (typeof streamId !== 'string' || streamId.length === 0) throw new ValidationError('streamId', 'must be a non-empty string');
  checkExpected(expected);
  const encoded = events.map(toEsdbEvent);
  if (encoded.length === 0) return appendNothing(client, streamId, expected);
  // The whole append, retries included, within the deadline (deadline.ts).
  const deadline = deadlineFor(client);
  const giveUpAt = Date.now() + deadline;
  let result: { nextExpectedRevision: bigint; position?: { commit: bigint } | undefined } | undefined;
  for (let attempt = 0; result === undefined; attempt++) {
    try {
      const call = client.appendToStream(streamId, encoded, { expectedRevision: toEsdbExpected(expected), deadline });
      result = await within(call, giveUpAt - Date.now(), deadline);
    } catch (error) {
      const mapped = mapAppendError(error, streamId, expected, events[0]?.id);
      const delay = UNAVAILABLE_RETRY_MS[attempt];
      if (!(mapped instanceof EventStoreUnavailableError) || delay === undefined || Date.now() + delay >= giveUpAt) throw mapped;
      await sleep(delay);
    }
  }
  const position = result.position?.commit ?? -1n;
  // Some servers answer an idempotent re-send without a position: take it from the stored event.
  if (position >= 0n) return { nextExpectedRevision: result.nextExpectedRevision, position };
  const last = await eventAt(client, streamId, result.nextExpectedRevision);
  return { nextExpectedRevision: result.nextExpectedRevision, position: last?.position ?? -1n };
};
