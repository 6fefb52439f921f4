/**
 * `keel events`: one stream, or the whole log filtered by type, stream prefix, correlation id and a
 * window of positions or times; `follow` then tails live events until the signal aborts.
 */
import type { EventFilter, RecordedEvent } from '../eventstore/port.js';
import { isAfter, isBefore, type Bound } from './bounds.js';
import { readByRefs, type EventIndex } from './event-index.js';
import { viewOf, type EventView } from './event-view.js';
import { streamBounds, type EventLog } from './log.js';

export interface EventQuery {
  /** One stream; otherwise the whole log. */
  readonly stream?: string;
  readonly types?: readonly string[];
  readonly streamPrefix?: string;
  readonly correlationId?: string;
  readonly since?: Bound;
  readonly until?: Bound;
  /** After the history, tail live events until `signal` aborts. */
  readonly follow?: boolean;
  readonly signal?: AbortSignal;
}

const matches = (query: EventQuery, event: RecordedEvent): boolean =>
  (query.types === undefined || query.types.length === 0 || query.types.includes(event.type)) &&
  (query.streamPrefix === undefined || event.streamId.startsWith(query.streamPrefix)) &&
  (query.correlationId === undefined || event.metadata.correlationId === query.correlationId) &&
  (query.since === undefined || !isBefore(query.since, event)) &&
  (query.until === undefined || !isAfter(query.until, event));

const filterOf = (query: EventQuery): EventFilter => ({
  ...(query.types === undefined || query.types.length === 0 ? {} : { eventTypes: query.types }),
  ...(query.streamPrefix === undefined ? {} : { streamPrefixes: [query.streamPrefix] }),
});

async function* history(log: EventLog, query: EventQuery, index: EventIndex | undefined): AsyncIterable<RecordedEvent> {
  if (query.stream !== undefined) {
    await streamBounds(log, query.stream);
    yield* log.readStream(query.stream);
    return;
  }
  if (query.correlationId !== undefined && index !== undefined) {
    yield* (await readByRefs(log, index, [`correlation:${query.correlationId}`])).events;
    return;
  }
  const after = query.since !== undefined && 'position' in query.since ? query.since.position - 1n : undefined;
  for await (const event of log.readAll({ ...(after === undefined || after < 0n ? {} : { after }), filter: filterOf(query) })) {
    // Positions grow: past an `until` position nothing more can match.
    if (query.until !== undefined && 'position' in query.until && event.position > query.until.position) return;
    yield event;
  }
}

export async function* listEvents(log: EventLog, query: EventQuery, index?: EventIndex): AsyncIterable<EventView> {
  let last: bigint | undefined;
  for await (const event of history(log, query, index)) {
    if (query.signal?.aborted) return;
    last = event.position;
    if (matches(query, event)) yield viewOf(event);
  }
  if (query.follow !== true || query.signal?.aborted) return;
  const since = query.since !== undefined && 'position' in query.since ? query.since.position - 1n : undefined;
  const after = last ?? since ?? (await log.headPosition());
  for await (const message of log.subscribe({ ...(after < 0n ? {} : { after }), filter: filterOf(query), ...(query.signal ? { signal: query.signal } : {}) })) {
    if (message.kind !== 'event') continue;
    const { event } = message;
    if (query.stream !== undefined && event.streamId !== query.stream) continue;
    if (query.until !== undefined && isAfter(query.until, event)) return;
    if (matches(query, event)) yield viewOf(event);
  }
}
