/**
 * The port's EventFilter on EventStoreDB. A server-side filter is either on event types or on
 * stream names, never both: subscriptions filter on event types on the server (Keel subscribers
 * name the types they handle) and on stream prefixes on the client; without types they filter on
 * stream prefixes, and without either they only exclude system events. The client-side check is
 * always applied in full, so it is the definition of a match.
 */
import { eventTypeFilter, excludeSystemEvents, streamNameFilter } from '@eventstore/db-client';
import type { Filter } from '@eventstore/db-client';
import type { EventFilter } from '../port.js';

export const matchesFilter = (event: { readonly type: string; readonly streamId: string }, filter: EventFilter | undefined): boolean => {
  if (filter === undefined) return true;
  if (filter.eventTypes !== undefined && !filter.eventTypes.includes(event.type)) return false;
  if (filter.streamPrefixes !== undefined && !filter.streamPrefixes.some((prefix) => event.streamId.startsWith(prefix))) return false;
  return true;
};

const escapeRegex = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|]/g, (c) => `\\${c}`);

/** A regex (valid in .NET, which the server uses, and in JS) matching exactly these names. */
export const exactNamesRegex = (names: readonly string[]): string =>
  names.length === 0 ? '(?!)' : `^(?:${names.map(escapeRegex).join('|')})$`;

export type CheckpointCallback = NonNullable<Filter['checkpointReached']>;

/**
 * The server-side part. `checkpointInterval` 1 asks for a checkpoint every search window
 * (32 events examined) while filtering.
 */
export const serverFilter = (filter: EventFilter | undefined, checkpointReached: CheckpointCallback): Filter => {
  const common = { checkpointInterval: 1, checkpointReached };
  if (filter?.eventTypes !== undefined) return eventTypeFilter({ regex: exactNamesRegex(filter.eventTypes), ...common });
  // A stream name filter cannot also exclude system event types: those are dropped on the client.
  if (filter?.streamPrefixes !== undefined && filter.streamPrefixes.length > 0) {
    return streamNameFilter({ prefixes: [...filter.streamPrefixes], ...common });
  }
  return excludeSystemEvents(common);
};
