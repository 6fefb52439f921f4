/**
 * Reading events back: `upcast` lifts stored data of any known version to the current shape and
 * validates it; `parseEvent` / `parseRecordedEvent` turn a stored row into a typed event.
 */
import { EventDecodingError } from './decoding-error.js';
import type { EventMetadata, Recorded } from './event.js';
import { eventMetadataSchema } from './event.js';
import { definitionOfType } from './registry.js';
import type { EventDataOf, EventDefinition, EventOf, EventType, KeelEvent } from './registry.js';

const definitionOf = (type: string, schemaVersion: number): EventDefinition<unknown> => {
  const definition = definitionOfType(type, schemaVersion);
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > definition.version) {
    throw new EventDecodingError(
      `"${type}" has no schema version ${schemaVersion} (current: ${definition.version}).`,
      type,
      schemaVersion,
    );
  }
  return definition;
};

const lift = (type: string, schemaVersion: number, data: unknown): unknown => {
  const definition = definitionOf(type, schemaVersion);
  let current = data;
  for (let version = schemaVersion; version < definition.version; version += 1) {
    const upcaster = definition.upcasters?.[version];
    if (!upcaster) {
      throw new EventDecodingError(`"${type}" has no upcaster from version ${version}.`, type, schemaVersion);
    }
    try {
      current = upcaster(current);
    } catch (cause) {
      throw new EventDecodingError(`"${type}" v${version} data is malformed.`, type, schemaVersion, { cause });
    }
  }
  const parsed = definition.schema.safeParse(current);
  if (!parsed.success) {
    throw new EventDecodingError(`"${type}" data does not match its schema.`, type, schemaVersion, {
      cause: parsed.error,
    });
  }
  return parsed.data;
};

/** Stored data of `type` at `schemaVersion`, lifted to and validated against the current version. */
export function upcast<T extends EventType>(type: T, schemaVersion: number, data: unknown): EventDataOf<T>;
export function upcast(type: string, schemaVersion: number, data: unknown): KeelEvent['data'];
export function upcast(type: string, schemaVersion: number, data: unknown): unknown {
  return lift(type, schemaVersion, data);
}

export interface StoredEvent {
  readonly type: string;
  readonly data: unknown;
  /** Defaults to 1, as in the EventStore port. */
  readonly schemaVersion?: number;
}

export const parseEvent = ({ type, data, schemaVersion = 1 }: StoredEvent): KeelEvent => {
  const current = lift(type, schemaVersion, data);
  // lift() has checked `type` and validated `data` against that type's schema, so the pair matches.
  return { type, data: current } as KeelEvent;
};

export const parseRecordedEvent = (
  stored: StoredEvent & { readonly metadata: unknown },
): Recorded<KeelEvent> => {
  const event = parseEvent(stored);
  const parsed = eventMetadataSchema.safeParse(stored.metadata);
  if (!parsed.success) {
    throw new EventDecodingError(`"${stored.type}" metadata is malformed.`, stored.type, stored.schemaVersion ?? 1, {
      cause: parsed.error,
    });
  }
  const metadata: EventMetadata = parsed.data;
  return { ...event, metadata };
};

/** As `parseEvent`, but only for the given types (one aggregate's events); any other type throws. */
export const parseEventOf = <T extends EventType>(types: readonly T[], stored: StoredEvent): EventOf<T> => {
  const event = parseEvent(stored);
  const allowed: readonly EventType[] = types;
  if (!allowed.includes(event.type)) {
    const message = `"${event.type}" is not one of ${types.join(', ')}.`;
    throw new EventDecodingError(message, event.type, stored.schemaVersion ?? 1);
  }
  // The type was checked just above; TypeScript cannot narrow a union by a runtime list.
  return event as EventOf<T>;
};
