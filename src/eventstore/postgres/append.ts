/**
 * One append or one group-commit batch of appends: validate and encode in JS, one round trip to
 * the append functions, and turn their status rows into results or the port's typed errors.
 */
import { sql } from 'kysely';
import { KeelError, ValidationError } from '../../platform/errors.js';
import { DuplicateEventIdError, EventStoreUnavailableError, WrongExpectedRevisionError } from '../errors.js';
import type { AppendResult, EventData, ExpectedRevision } from '../port.js';
import { MAX_EVENTS_PER_TRANSACTION } from './schema.js';
import type { EventStoreDb } from './schema.js';
import { isConnectionError, isDataException, isEventIdViolation } from './error-mapping.js';

export interface AppendRequest {
  readonly streamId: string;
  readonly expected: ExpectedRevision;
  readonly eventCount: number;
  /** `[{ id, type, v, data, metadata }]`, encoded once. */
  readonly eventsJson: string;
}

/** Per caller: a result, or the error that caller (and only that caller) must see. */
export type AppendOutcome =
  | { readonly ok: true; readonly result: AppendResult; readonly wrote: boolean }
  | { readonly ok: false; readonly error: Error };

interface StatusRow {
  r_status: string;
  r_revision: string | null;
  r_position: string | null;
  r_event_id: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const prepareAppend = (streamId: string, events: readonly EventData[], expected: ExpectedRevision): AppendRequest => {
  if (typeof streamId !== 'string' || streamId.length === 0) throw new ValidationError('streamId', 'must be a non-empty string');
  if (typeof expected === 'bigint' ? expected < 0n : !['any', 'no_stream', 'exists'].includes(expected)) {
    throw new ValidationError('expectedRevision', "must be 'any', 'no_stream', 'exists' or a revision >= 0");
  }
  if (events.length > MAX_EVENTS_PER_TRANSACTION) {
    throw new KeelError('KEEL_ERR_APPEND_TOO_LARGE', `At most ${MAX_EVENTS_PER_TRANSACTION} events fit in one append.`, {
      streamId,
      count: events.length,
    });
  }
  const encoded = events.map((e, i) => {
    if (typeof e.id !== 'string' || !UUID.test(e.id)) throw new ValidationError(`events[${i}].id`, 'must be a UUID');
    if (typeof e.type !== 'string' || e.type.length === 0) throw new ValidationError(`events[${i}].type`, 'must be a non-empty string');
    const v = e.schemaVersion ?? 1;
    if (!Number.isInteger(v) || v < 1) throw new ValidationError(`events[${i}].schemaVersion`, 'must be an integer >= 1');
    return { id: e.id, type: e.type, v, data: e.data ?? null, metadata: e.metadata };
  });
  return { streamId, expected, eventCount: events.length, eventsJson: JSON.stringify(encoded) };
};

const expectedText = (expected: ExpectedRevision): string => (typeof expected === 'bigint' ? expected.toString() : expected);

const toOutcome = (request: AppendRequest, row: StatusRow | undefined): AppendOutcome => {
  const { streamId, expected } = request;
  switch (row?.r_status) {
    case 'ok':
    case 'duplicate':
      if (row.r_revision === null || row.r_position === null) break;
      return {
        ok: true,
        result: { nextExpectedRevision: BigInt(row.r_revision), position: BigInt(row.r_position) },
        wrote: row.r_status === 'ok' && request.eventCount > 0,
      };
    case 'wrong_expected': {
      const actual = row.r_revision === null ? 'no_stream' : BigInt(row.r_revision);
      return { ok: false, error: new WrongExpectedRevisionError(streamId, expected, actual) };
    }
    case 'duplicate_id':
      return { ok: false, error: new DuplicateEventIdError(streamId, row.r_event_id ?? '(unknown)') };
    case 'too_large':
      return { ok: false, error: new KeelError('KEEL_ERR_APPEND_TOO_LARGE', 'The transaction has no room left for these events.', { streamId }) };
  }
  throw new Error(`keel_append returned an unexpected row for "${streamId}": ${JSON.stringify(row)}`);
};

/** Driver errors that concern the caller become the port's errors; the rest stay as they are. */
const translate = (error: unknown, request: AppendRequest): unknown => {
  if (isConnectionError(error)) return new EventStoreUnavailableError('The event store cannot be reached.', error);
  if (isEventIdViolation(error)) {
    const detail = typeof error === 'object' && error !== null && 'detail' in error ? String(error.detail) : '';
    return new DuplicateEventIdError(request.streamId, /\(([0-9a-f-]{36})\)/i.exec(detail)?.[1] ?? '(unknown)');
  }
  if (isDataException(error)) return new ValidationError('events', error instanceof Error ? error.message : String(error));
  return error;
};

/** One append in its own transaction. */
export const appendOne = async (db: EventStoreDb, request: AppendRequest): Promise<AppendOutcome> => {
  const { streamId, expected, eventsJson } = request;
  for (let attempt = 1; ; attempt++) {
    try {
      const { rows } = await sql<StatusRow>`
        select r_status, r_revision::text as r_revision, r_position::text as r_position, r_event_id::text as r_event_id
        from keel_append(${streamId}, ${expectedText(expected)}, ${eventsJson}::jsonb)`.execute(db);
      return toOutcome(request, rows[0]);
    } catch (error) {
      // A concurrent send of the same events won the race: once it has committed, the retry
      // takes the idempotent path and returns its result.
      if (attempt === 1 && isEventIdViolation(error)) continue;
      throw translate(error, request);
    }
  }
};

/** Several appends in one transaction (one commit). Throws only if the batch as a whole failed. */
export const appendBatch = async (db: EventStoreDb, requests: readonly AppendRequest[]): Promise<AppendOutcome[]> => {
  const payload = `[${requests
    .map((r) => `{"s":${JSON.stringify(r.streamId)},"e":"${expectedText(r.expected)}","ev":${r.eventsJson}}`)
    .join(',')}]`;
  const { rows } = await sql<StatusRow & { r_index: number }>`
    select r_index, r_status, r_revision::text as r_revision, r_position::text as r_position, r_event_id::text as r_event_id
    from keel_append_batch(${payload}::jsonb)`.execute(db);
  const byIndex = new Map(rows.map((row) => [row.r_index, row]));
  return requests.map((request, i) => toOutcome(request, byIndex.get(i)));
};
