/**
 * Reads, in pages: each page is one bounded gRPC read (`maxCount`), consumed before the next is
 * requested, so memory stays bounded however long the stream or `$all` is. `$all` reads hide
 * EventStoreDB's system events and apply the port's filter on the client (the client's readAll
 * has no server-side filter; subscriptions do, see subscribe.ts). Each read fails with
 * KEEL_ERR_EVENTSTORE_UNAVAILABLE when the server stays silent past the deadline (deadline.ts).
 */
import { BACKWARDS, END, FORWARDS, START, StreamNotFoundError } from '@eventstore/db-client';
import type { EventStoreDBClient, ReadRevision } from '@eventstore/db-client';
import { ValidationError } from '../../platform/errors.js';
import type { ReadAllOptions, ReadStreamOptions, RecordedEvent } from '../port.js';
import { consumeWithin, deadlineFor } from './deadline.js';
import { isSystemEvent, toRecordedEvent } from './encoding.js';
import { mapReadError } from './error-mapping.js';
import { matchesFilter } from './filter.js';
import { BEFORE_START, fromAfter, positionOf } from './positions.js';

export const PAGE_SIZE = 500;

const checkMaxCount = (maxCount: number | undefined): number => {
  if (maxCount === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(maxCount) || maxCount < 0) throw new ValidationError('maxCount', 'must be an integer >= 0');
  return maxCount;
};

/** One page of a stream; a missing (or soft-deleted) stream is an empty page. */
const streamPage = async (
  client: EventStoreDBClient,
  streamId: string,
  from: ReadRevision,
  backwards: boolean,
  limit: number,
): Promise<RecordedEvent[]> => {
  const page: RecordedEvent[] = [];
  try {
    const read = client.readStream(streamId, { fromRevision: from, direction: backwards ? BACKWARDS : FORWARDS, maxCount: limit });
    await consumeWithin(read, deadlineFor(client), (resolved) => {
      if (resolved.event) page.push(toRecordedEvent(resolved.event));
    });
  } catch (error) {
    if (error instanceof StreamNotFoundError) return page;
    throw mapReadError(error, streamId);
  }
  return page;
};

export async function* readStream(client: EventStoreDBClient, streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
  const backwards = options.direction === 'backwards';
  let remaining = checkMaxCount(options.maxCount);
  let from: ReadRevision = options.fromRevision ?? (backwards ? END : START);
  while (remaining > 0) {
    const limit = Math.min(PAGE_SIZE, remaining);
    const page = await streamPage(client, streamId, from, backwards, limit);
    for (const event of page) yield event;
    remaining -= page.length;
    const last = page.at(-1);
    if (page.length < limit || last === undefined) return;
    if (backwards && last.revision === 0n) return;
    from = backwards ? last.revision - 1n : last.revision + 1n;
  }
}

/** The event at `revision` of a stream, or undefined. */
export const eventAt = async (client: EventStoreDBClient, streamId: string, revision: bigint): Promise<RecordedEvent | undefined> =>
  (await streamPage(client, streamId, revision, false, 1))[0];

/** The last event of a stream, or undefined when it has none. */
export const lastOfStream = async (client: EventStoreDBClient, streamId: string): Promise<RecordedEvent | undefined> =>
  (await streamPage(client, streamId, END, true, 1))[0];

/** Every event of `$all` (system events included) after `after`, one bounded page. */
export const allPage = async (client: EventStoreDBClient, after: bigint, limit: number): Promise<{ events: RecordedEvent[]; complete: boolean }> => {
  const events: RecordedEvent[] = [];
  let received = 0;
  try {
    // A read from a position includes it: ask for one more and drop what is at or below `after`.
    const read = client.readAll({ fromPosition: fromAfter(after), direction: FORWARDS, maxCount: limit + 1 });
    await consumeWithin(read, deadlineFor(client), (resolved) => {
      received += 1;
      const event = resolved.event;
      if (event !== undefined && positionOf(event) > after) events.push(toRecordedEvent(event));
    });
  } catch (error) {
    throw mapReadError(error);
  }
  return { events, complete: received < limit + 1 };
};

export async function* readAll(client: EventStoreDBClient, options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
  let after = options.after ?? BEFORE_START;
  let remaining = checkMaxCount(options.maxCount);
  while (remaining > 0) {
    const page = await allPage(client, after, PAGE_SIZE);
    for (const event of page.events) {
      after = event.position;
      if (isSystemEvent(event) || !matchesFilter(event, options.filter)) continue;
      yield event;
      remaining -= 1;
      if (remaining <= 0) return;
    }
    if (page.complete) return;
  }
}

/** The commit position of the last event in `$all` (any event, system ones too), or -1. */
export const headPosition = async (client: EventStoreDBClient): Promise<bigint> => {
  let head = BEFORE_START;
  try {
    // Consumed to the end, never left early: an abandoned read keeps its gRPC call open.
    const read = client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 });
    await consumeWithin(read, deadlineFor(client), (resolved) => {
      if (resolved.event) head = positionOf(resolved.event);
    });
  } catch (error) {
    throw mapReadError(error);
  }
  return head;
};
