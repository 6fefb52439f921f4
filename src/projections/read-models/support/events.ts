/**
 * Reading recorded events in a read model: decode (upcast and validate) with the event registry,
 * and find the key fields without decoding (keyOf must be cheap and must not throw).
 */
import type { RecordedEvent } from '../../../eventstore/port.js';
import { parseEventOf } from '../../../events/index.js';
import type { EventOf, EventType } from '../../../events/index.js';

/** A decoded event with its global position: what every fold works on. */
export type Positioned<T extends EventType> = T extends EventType
  ? {
      readonly event: EventOf<T>;
      readonly position: bigint;
      /** When the event was decided (its metadata timestamp, else when it was stored), ISO-8601 UTC. */
      readonly time: string;
    }
  : never;

/**
 * Decodes a batch, lifting old schema versions (OrderPlaced v1) to the current shape. Events of
 * other types are skipped (the engine subscribes with `eventTypes`, so it sends none; a test may
 * pass all of `$all`). A malformed event throws `EventDecodingError`: the engine retries, then parks it.
 */
export const decodeBatch = <T extends EventType>(
  types: readonly T[],
  events: readonly RecordedEvent[],
): Positioned<T>[] => {
  const handled: readonly string[] = types;
  return events.filter((e) => handled.includes(e.type)).map((recorded) => positioned(parseEventOf(types, recorded), recorded));
};

const positioned = <T extends EventType>(event: EventOf<T>, recorded: RecordedEvent): Positioned<T> => {
  const value = { event, position: recorded.position, time: timeOf(recorded) };
  // `Positioned<T>` distributes over the union T; `value` is one of its members by construction.
  return value as Positioned<T>;
};

export const timeOf = (recorded: RecordedEvent): string => {
  const stamp = recorded.metadata.timestamp;
  return typeof stamp === 'string' && !Number.isNaN(Date.parse(stamp))
    ? new Date(stamp).toISOString()
    : recorded.createdAt.toISOString();
};

/** A string field of the raw event data, if present (no validation: used by keyOf). */
export const rawField = (event: RecordedEvent, field: string): string | undefined => {
  const data: unknown = event.data;
  if (typeof data !== 'object' || data === null || !(field in data)) return undefined;
  const value: unknown = Reflect.get(data, field);
  return typeof value === 'string' ? value : undefined;
};

/** The first of `fields` present in the data, else the stream id: a key that never throws. */
export const keyFrom = (event: RecordedEvent, ...fields: readonly string[]): string => {
  for (const field of fields) {
    const value = rawField(event, field);
    if (value !== undefined) return value;
  }
  return event.streamId;
};

/** Position of the last event of the batch: the stamp of every change the batch announces. */
export const lastPosition = (events: readonly RecordedEvent[]): bigint => events.at(-1)?.position ?? 0n;

/** Distinct values in first-seen order. */
export const distinct = <T>(values: Iterable<T>): T[] => [...new Set(values)];
