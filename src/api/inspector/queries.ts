/**
 * What the inspector's data routes answer (routes.ts), as JSON-ready values (bigints as strings,
 * times as ISO text): every read goes through src/replay/ (events, replay, explain) and the
 * projection engine's public interface (status, parked events, lineage). Nothing here appends:
 * the event store is used through replay's `EventLog` (its read methods), and the only writes
 * are the engine's own retry/skip of a parked event, which an admin confirms.
 *
 * Every answer is bounded: a search returns at most SEARCH_LIMIT streams or events, the feed the
 * newest RECENT_LIMIT events, a timeline at most TIMELINE_MAX_STEPS steps (and TIMELINE_MAX_BYTES
 * of JSON) from a revision onwards, with the revision to continue from.
 */
import type { EventStore, RecordedEvent } from '../../eventstore/port.js';
import { eventTypes } from '../../events/index.js';
import type { DatabaseHandle } from '../../platform/database.js';
import { KeelError, type ErrorCode } from '../../platform/errors.js';
import {
  LineageError,
  listParked,
  projectionStatuses,
  readControl,
  retryParked,
  skipParked,
  traceKey,
  type ParkedActionResult,
  type ParkedEvent,
  type ProjectionStatus,
  type TracedEvent,
} from '../../projections/engine/index.js';
import type { ChangeSink, Projection } from '../../projections/projection.js';
import {
  DEFAULT_STREAM_EVENTS,
  STREAM_KINDS,
  eventJson,
  explainOrder,
  explainStream,
  readByRefs,
  replayStream,
  streamBounds,
  streamKindOf,
  viewOf,
  type Change,
  type EventIndex,
  type EventLog,
  type Plain,
  type Story,
  type StoryNode,
} from '../../replay/index.js';

/** What the inspector reads. The store is full `EventStore` only for the engine's status and lineage (they read it). */
export interface InspectorDeps {
  readonly store: EventStore;
  /** The primary database: projection control tables, parked events, the event index. */
  readonly database: DatabaseHandle;
  readonly projections: readonly Projection[];
  /** The event index `explain` and the correlation search read (src/projections/read-models). */
  readonly index: EventIndex;
  /** Where retry publishes the changes it applied (the cache and subscriptions); default none. */
  readonly sink?: ChangeSink | undefined;
}

export type Json = Plain;
type JsonObject = { readonly [key: string]: Json };

/** At most this many streams (prefix search) or events (type or id search) per answer. */
export const SEARCH_LIMIT = 50;
/** A prefix search reads at most this many matching events looking for distinct streams. */
export const SEARCH_SCAN_LIMIT = 5_000;
/** The feed's first answer: the newest this many events. */
export const RECENT_LIMIT = 50;
/** A poll with `after` returns at most this many events; more, and it answers the newest instead (`gap`). */
export const FEED_CATCH_UP_LIMIT = 200;
/** The newest-events search reads windows of at most this many events. */
export const RECENT_WINDOW_CAP = 1_000;
export const TIMELINE_MAX_STEPS = 2_000;
export const TIMELINE_MAX_BYTES = 8 * 1024 * 1024;
export const STORY_MAX_STREAM_EVENTS = 1_000;

const badRequest = (field: string, message: string, code: 'KEEL_ERR_VALIDATION' | 'KEEL_ERR_REPLAY_BAD_REVISION' | 'KEEL_ERR_REPLAY_BAD_POSITION' = 'KEEL_ERR_VALIDATION'): KeelError =>
  new KeelError(code, `${field}: ${message}`, { field });

/** A whole number from a query or path parameter, or the error naming it. */
export const wholeNumber = (
  field: string,
  value: string,
  code: 'KEEL_ERR_VALIDATION' | 'KEEL_ERR_REPLAY_BAD_REVISION' | 'KEEL_ERR_REPLAY_BAD_POSITION' = 'KEEL_ERR_VALIDATION',
  allowMinusOne = false,
): bigint => {
  if (!(allowMinusOne ? /^(-1|\d{1,19})$/ : /^\d{1,19}$/).test(value)) throw badRequest(field, `must be a whole number${allowMinusOne ? ' (or -1)' : ''}, not "${value.slice(0, 40)}"`, code);
  return BigInt(value);
};

const iso = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);

const eventOf = (event: RecordedEvent): Record<string, Json> => eventJson(viewOf(event));

// ---------------------------------------------------------------------------------------------
// search

export interface StreamHit {
  readonly streamId: string;
  /** The aggregate (`order`, `inventory`, …), or null for a stream of no known kind. */
  readonly kind: string | null;
  /** Matching events seen by this search (not the stream's length when the search was truncated). */
  readonly events: number;
  readonly lastType: string;
  readonly lastPosition: string;
  readonly lastTime: string;
}

export interface SearchResult {
  readonly query: string;
  /** How `query` was read: an exact event type, a stream id prefix, or an id (correlation, event, order, payment, product). */
  readonly matchedAs: 'event-type' | 'stream-prefix' | 'id';
  readonly streams: readonly StreamHit[];
  /** The matching events (type and id searches), in position order. */
  readonly events: readonly Record<string, Json>[];
  /** More matched than shown. */
  readonly truncated: boolean;
  /** For a type search: pass as `after` for the next events. */
  readonly next: string | null;
  readonly note: string;
}

const kindName = (streamId: string): string | null => STREAM_KINDS.find((k) => streamId.startsWith(k.prefix))?.name ?? null;

type StreamTally = Map<string, { count: number; last: RecordedEvent }>;

const tally = (streams: StreamTally, event: RecordedEvent): void => {
  streams.set(event.streamId, { count: (streams.get(event.streamId)?.count ?? 0) + 1, last: event });
};

const hitsOf = (streams: StreamTally): StreamHit[] =>
  [...streams.entries()].map(([streamId, { count, last }]) => ({
    streamId,
    kind: kindName(streamId),
    events: count,
    lastType: last.type,
    lastPosition: last.position.toString(),
    lastTime: last.createdAt.toISOString(),
  }));

const streamsOf = (events: readonly RecordedEvent[]): StreamHit[] => {
  const streams: StreamTally = new Map();
  for (const event of events) tally(streams, event);
  return hitsOf(streams);
};

/** Whether `query` reads as a stream id prefix: it starts with a known prefix, or is the start of one (`ord`). */
const isStreamPrefix = (query: string): boolean => STREAM_KINDS.some((k) => query.startsWith(k.prefix) || k.prefix.startsWith(query));

export const search = async (deps: InspectorDeps, query: string, after?: bigint): Promise<SearchResult> => {
  const log: EventLog = deps.store;
  if ((eventTypes as readonly string[]).includes(query)) {
    const events: RecordedEvent[] = [];
    for await (const event of log.readAll({ ...(after === undefined ? {} : { after }), filter: { eventTypes: [query] }, maxCount: SEARCH_LIMIT + 1 })) events.push(event);
    const truncated = events.length > SEARCH_LIMIT;
    const shown = events.slice(0, SEARCH_LIMIT);
    return {
      query,
      matchedAs: 'event-type',
      streams: streamsOf(shown),
      events: shown.map(eventOf),
      truncated,
      next: truncated ? (shown.at(-1)?.position.toString() ?? null) : null,
      note: `${shown.length} ${query} event(s)${after === undefined ? '' : ` after position ${after}`}, oldest first${truncated ? `; more follow (the first ${SEARCH_LIMIT} are shown)` : ''}`,
    };
  }
  if (isStreamPrefix(query)) {
    const streams: StreamTally = new Map();
    let scanned = 0;
    let truncated = false;
    for await (const event of log.readAll({ filter: { streamPrefixes: [query] }, maxCount: SEARCH_SCAN_LIMIT })) {
      scanned += 1;
      if (!streams.has(event.streamId) && streams.size >= SEARCH_LIMIT) {
        truncated = true;
        break;
      }
      tally(streams, event);
    }
    if (scanned >= SEARCH_SCAN_LIMIT) truncated = true;
    const hits = hitsOf(streams);
    const limit = scanned >= SEARCH_SCAN_LIMIT ? `the first ${SEARCH_SCAN_LIMIT} matching events were read` : `the first ${SEARCH_LIMIT} streams are shown`;
    return {
      query,
      matchedAs: 'stream-prefix',
      streams: hits,
      events: [],
      truncated,
      next: null,
      note: `${hits.length} stream(s) whose id starts with "${query}", in order of their first event${truncated ? `; more may match (${limit})` : ''}`,
    };
  }
  const refs = ['correlation', 'event', 'order', 'payment', 'product'].map((kind) => `${kind}:${query}`);
  const found = await readByRefs(log, deps.index, refs);
  const truncated = found.events.length > SEARCH_LIMIT;
  const shown = found.events.slice(0, SEARCH_LIMIT);
  const index = found.unindexed ? '; the event index never ran, so the whole log was read' : found.scanned > 0 ? `; ${found.scanned} event(s) past the index read` : '';
  return {
    query,
    matchedAs: 'id',
    streams: streamsOf(shown),
    events: shown.map(eventOf),
    truncated,
    next: null,
    note: `${found.events.length} event(s) with correlation id, event id or order/payment/product id "${query}"${truncated ? ` (the first ${SEARCH_LIMIT} are shown)` : ''}${index}`,
  };
};

// ---------------------------------------------------------------------------------------------
// the live feed

export interface RecentEvents {
  /** In position order (oldest first). */
  readonly events: readonly Record<string, Json>[];
  /** Pass as `after` on the next poll (null: nothing read yet, poll without it). */
  readonly cursor: string | null;
  /** More than FEED_CATCH_UP_LIMIT events arrived after `after`: these are the newest, some were not shown. */
  readonly gap: boolean;
}

/** The events after `after`, keeping the last `keep`, reading at most `cap + 1` (count > cap: the window is too wide). */
const windowAfter = async (log: EventLog, after: bigint, keep: number, cap: number): Promise<{ count: number; kept: RecordedEvent[] }> => {
  const kept: RecordedEvent[] = [];
  let count = 0;
  for await (const event of log.readAll({ ...(after < 0n ? {} : { after }), maxCount: cap + 1 })) {
    count += 1;
    kept.push(event);
    if (kept.length > keep) kept.shift();
  }
  return { count, kept };
};

/**
 * The newest `n` events with bounded reads. The port reads `$all` forwards only and positions are
 * not dense (PostgreSQL: transaction id << 20; EventStoreDB: commit positions), so `head - n` means
 * nothing. Instead: windows `(head - span, ∞)` are read forwards, at most `cap + 1` events each,
 * the span growing ×16 while a window holds fewer than `n` events and halving back (bisection)
 * when it holds more than `cap`, until one holds between `n` and `cap`; its last `n` are the
 * answer. Each probe reads at most `cap + 1` events; at most ~80 probes over a 64-bit range.
 */
export const newestEvents = async (log: EventLog, n = RECENT_LIMIT, cap = RECENT_WINDOW_CAP): Promise<RecordedEvent[]> => {
  const head = await log.headPosition();
  if (head < 0n) return [];
  let narrow = 0n; // a span known to hold fewer than n events
  let wide: bigint | undefined; // a span known to hold more than cap
  let span = BigInt(n);
  let best: RecordedEvent[] = [];
  for (let probe = 0; probe < 100; probe += 1) {
    const after = head - span;
    const window = await windowAfter(log, after < 0n ? -1n : after, n, cap);
    if (window.count <= cap && (window.count >= n || after < 0n)) return window.kept;
    if (window.count < n) {
      narrow = span;
      best = window.kept;
    } else {
      wide = span;
    }
    const next = wide === undefined ? span * 16n : narrow + (wide - narrow) / 2n;
    if (next === span || next <= narrow) break;
    span = next;
  }
  return best;
};

export const recentEvents = async (deps: InspectorDeps, after: bigint | undefined): Promise<RecentEvents> => {
  const log: EventLog = deps.store;
  if (after !== undefined) {
    const window = await windowAfter(log, after, FEED_CATCH_UP_LIMIT, FEED_CATCH_UP_LIMIT);
    if (window.count <= FEED_CATCH_UP_LIMIT) {
      return { events: window.kept.map(eventOf), cursor: (window.kept.at(-1)?.position ?? after).toString(), gap: false };
    }
  }
  const newest = await newestEvents(log);
  const last = newest.at(-1)?.position;
  return { events: newest.map(eventOf), cursor: last === undefined ? (after?.toString() ?? null) : last.toString(), gap: after !== undefined };
};

// ---------------------------------------------------------------------------------------------
// a stream's timeline

export interface TimelineStep {
  readonly index: number;
  readonly event: Record<string, Json>;
  /** The state after the event. */
  readonly state: Json;
  readonly changes: readonly Change[];
}

export interface Timeline {
  readonly streamId: string;
  readonly aggregate: string;
  readonly lastRevision: string;
  /** The revision of the first step. */
  readonly from: string;
  readonly steps: readonly TimelineStep[];
  /** Whether the stream goes on past the last step. */
  readonly truncated: boolean;
  /** The revision to pass as `from` for the following steps (null: the stream ends here). */
  readonly next: string | null;
  readonly note: string;
}

/**
 * The stream folded through its decider (replay's `replayStream`): each event with the state after
 * it and the diff. From revision `from` (the fold before it runs without keeping steps), at most
 * TIMELINE_MAX_STEPS steps and TIMELINE_MAX_BYTES of JSON.
 */
export const timeline = async (deps: InspectorDeps, streamId: string, from = 0n, maxSteps = TIMELINE_MAX_STEPS): Promise<Timeline> => {
  const log: EventLog = deps.store;
  const kind = streamKindOf(streamId);
  const { last } = await streamBounds(log, streamId);
  if (from > last.revision) {
    throw new KeelError('KEEL_ERR_REPLAY_BAD_REVISION', `Revision ${from} is outside "${streamId}", whose revisions run from 0 to ${last.revision}.`, {
      streamId,
      revision: from.toString(),
      lastRevision: last.revision.toString(),
    });
  }
  const end = from + BigInt(maxSteps) - 1n;
  const toRevision = end < last.revision ? end : last.revision;
  const steps: TimelineStep[] = [];
  let bytes = 0;
  let full = false;
  let next: bigint | null = toRevision < last.revision ? toRevision + 1n : null;
  await replayStream(log, streamId, {
    toRevision,
    stepsFrom: from,
    onStep: (step) => {
      if (full) return;
      const json: TimelineStep = { index: Number(step.event.revision), event: eventJson(step.event), state: step.state, changes: step.changes };
      const size = JSON.stringify(json).length;
      if (steps.length > 0 && bytes + size > TIMELINE_MAX_BYTES) {
        full = true;
        next = step.event.revision;
        return;
      }
      bytes += size;
      steps.push(json);
    },
  });
  const shownTo = steps.at(-1)?.index ?? Number(from);
  return {
    streamId,
    aggregate: kind.name,
    lastRevision: last.revision.toString(),
    from: from.toString(),
    steps,
    truncated: next !== null,
    next: next === null ? null : next.toString(),
    note:
      next === null
        ? `${steps.length} event(s), revisions ${from} to ${shownTo}${from > 0n ? ` (the fold began at revision 0)` : ''}`
        : `revisions ${from} to ${shownTo} of 0 to ${last.revision} (at most ${maxSteps} steps at a time); continue from revision ${next}`,
  };
};

// ---------------------------------------------------------------------------------------------
// stories

export interface StoryNodeJson {
  readonly id: string;
  readonly type: string;
  readonly streamId: string;
  readonly position: string;
  readonly revision: string;
  readonly children: readonly StoryNodeJson[];
}

export interface StoryJson {
  readonly subject: Story['subject'];
  readonly verdict: { readonly status: string; readonly text: string; readonly causeId: string | null };
  /** An order's reservation deadlines: SKU, when it expires, what became of it, the event that set it. */
  readonly deadlines: readonly { readonly sku: string; readonly expiresAt: string; readonly outcome: string; readonly setById: string }[];
  readonly state: Json;
  readonly events: readonly Record<string, Json>[];
  /** The causation tree: roots are events no event of the story caused. */
  readonly tree: readonly StoryNodeJson[];
  readonly scannedPastIndex: number;
  readonly indexNeverRan: boolean;
}

const nodeJson = (node: StoryNode): StoryNodeJson => ({
  id: node.event.id,
  type: node.event.type,
  streamId: node.event.streamId,
  position: node.event.position.toString(),
  revision: node.event.revision.toString(),
  children: node.children.map(nodeJson),
});

export const storyJson = (story: Story): StoryJson => ({
  subject: story.subject,
  verdict: { status: story.verdict.status, text: story.verdict.text, causeId: story.verdict.cause?.id ?? null },
  deadlines: story.deadlines.map((d) => ({ sku: d.sku, expiresAt: d.expiresAt, outcome: d.outcome, setById: d.setBy.id })),
  state: story.state,
  events: story.events.map(eventJson),
  tree: story.roots.map(nodeJson),
  scannedPastIndex: story.scannedPastIndex,
  indexNeverRan: story.indexNeverRan,
});

export const orderStory = async (deps: InspectorDeps, orderId: string): Promise<StoryJson> => storyJson(await explainOrder(deps.store, deps.index, orderId));

export const streamStory = async (deps: InspectorDeps, streamId: string, limit = DEFAULT_STREAM_EVENTS): Promise<StoryJson> =>
  storyJson(await explainStream(deps.store, deps.index, streamId, limit));

// ---------------------------------------------------------------------------------------------
// projections

/** A coded error answered with its own HTTP status (routes.ts): a name in the path that names nothing is a 404. */
export class InspectorError extends KeelError {
  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown>,
    readonly httpStatus: number,
  ) {
    super(code, message, details);
    this.name = 'InspectorError';
  }
}

const projectionNamed = (deps: InspectorDeps, name: string): Projection => {
  const projection = deps.projections.find((p) => p.name === name);
  if (projection) return projection;
  const known = deps.projections.map((p) => p.name).join(', ');
  throw new InspectorError('KEEL_ERR_VALIDATION', `name: no projection "${name.slice(0, 60)}"; the projections are ${known}.`, { field: 'name' }, 404);
};

const statusJson = (status: ProjectionStatus): JsonObject => ({
  name: status.name,
  description: status.description,
  state: status.state,
  codeVersion: status.codeVersion,
  version: status.version,
  generation: status.generation,
  position: status.position.toString(),
  head: status.head.toString(),
  lagEvents: status.lagEvents,
  lagEventsCapped: status.lagEventsCapped,
  lagSeconds: status.lagSeconds,
  parked: status.parked,
  active: status.active,
  updatedAt: iso(status.updatedAt),
  stalledBy:
    status.stalledBy === null
      ? null
      : { ...status.stalledBy, since: iso(status.stalledBy.since) },
});

export const projections = async (deps: InspectorDeps): Promise<{ projections: readonly JsonObject[] }> => ({
  projections: (await projectionStatuses(deps.database, deps.store, deps.projections)).map(statusJson),
});

const parkedJson = (parked: ParkedEvent): JsonObject => ({
  id: parked.id,
  status: parked.status,
  key: parked.key,
  blockedBy: parked.blockedBy,
  error: parked.error,
  attempts: parked.attempts,
  parkedAt: parked.parkedAt.toISOString(),
  event: eventOf(parked.event),
});

export const parkedEvents = async (deps: InspectorDeps, name: string): Promise<{ name: string; generation: number | null; parked: readonly JsonObject[] }> => {
  const projection = projectionNamed(deps, name);
  const generation = (await readControl(deps.database.db, projection.name))?.generation;
  const parked = generation === undefined ? [] : await listParked(deps.database.db, projection.name, generation);
  return { name: projection.name, generation: generation ?? null, parked: parked.map(parkedJson) };
};

const actionJson = (result: ParkedActionResult): JsonObject => ({
  id: result.id,
  position: result.position.toString(),
  key: result.key,
  outcome: result.outcome,
  released: result.released,
  stillBlocked: result.stillBlocked,
  error: result.error ?? null,
});

/** Retry or skip one parked event (the engine's own `retryParked`/`skipParked`). */
export const actOnParked = async (deps: InspectorDeps, name: string, id: string, action: 'retry' | 'skip'): Promise<{ result: JsonObject }> => {
  const projection = projectionNamed(deps, name);
  const results = await (action === 'retry' ? retryParked : skipParked)(deps.database, projection, { id }, deps.sink);
  const result = results[0];
  if (result === undefined) throw new KeelError('KEEL_ERR_PARKED_EVENT_NOT_FOUND', `No parked event ${id} in projection ${name}.`, { projection: name, id });
  return { result: actionJson(result) };
};

const tracedJson = (event: TracedEvent): JsonObject => ({
  position: event.position.toString(),
  eventId: event.eventId,
  streamId: event.streamId,
  revision: event.revision.toString(),
  type: event.type,
  time: event.time,
  commandId: event.commandId,
  correlationId: event.correlationId,
});

/** Every event that wrote the rows of `key` (the engine's `traceKey`: a scan of the projection's event types). */
export const lineage = async (deps: InspectorDeps, name: string, key: string): Promise<{ name: string; key: string; events: readonly JsonObject[] }> => {
  const projection = projectionNamed(deps, name);
  try {
    const trace = await traceKey({ store: deps.store, projection, key });
    return { name: trace.name, key: trace.key, events: trace.events.map(tracedJson) };
  } catch (error) {
    if (error instanceof LineageError && error.usage) throw new KeelError('KEEL_ERR_VALIDATION', error.message, { field: 'key' });
    throw error;
  }
};

/** The longest stream story a request may ask for. */
export const storyLimit = (value: string | undefined): number => {
  if (value === undefined) return DEFAULT_STREAM_EVENTS;
  const limit = Number(wholeNumber('limit', value));
  if (limit < 1 || limit > STORY_MAX_STREAM_EVENTS) throw badRequest('limit', `must be 1 to ${STORY_MAX_STREAM_EVENTS}`);
  return limit;
};
