/**
 * `keel explain order <id>` / `keel explain <stream>`: the whole story across streams, the order,
 * its stock reservations in the inventory streams, its payment and the process manager's reactions,
 * linked by causation ids into a tree, in position order, ending with one line that says why the
 * subject is in its state. Events are found through the event index (never by scanning a hot
 * inventory stream): by the entities they name and by correlation id.
 */
import { inReplaySpan } from '../platform/tracing.js';
import { fold } from '../commands/decider.js';
import { orderStreamId } from '../commands/order/index.js';
import type { RecordedEvent } from '../eventstore/port.js';
import { KeelError } from '../platform/errors.js';
import { readByRefs, type EventIndex } from './event-index.js';
import { viewOf, type EventView } from './event-view.js';
import { streamNotFound, type EventLog } from './log.js';
import { textField, toPlain, type Plain } from './plain.js';
import { replayStream } from './replay.js';
import { streamKindOf } from './streams.js';
import { verdictOf, type Verdict } from './verdict.js';

export interface StoryNode {
  readonly event: EventView;
  /** Events this one caused (their causation id is its id), in position order. */
  readonly children: readonly StoryNode[];
}

/** A reservation's deadline, set by the process manager when the order was placed. */
export interface Deadline {
  readonly sku: string;
  readonly expiresAt: string;
  /** What became of the reservation: committed (sold), released, or still open. */
  readonly outcome: 'committed' | 'released' | 'open';
  /** The StockReserved event that set it. */
  readonly setBy: EventView;
}

export interface Story {
  readonly subject: { readonly kind: 'order' | 'stream'; readonly id: string; readonly streamId: string };
  /** Every event of the story, in position order. */
  readonly events: readonly EventView[];
  /** The causation tree: roots are events no event of the story caused (a client's command). */
  readonly roots: readonly StoryNode[];
  /** The subject stream's state after its last event. */
  readonly state: Plain;
  readonly verdict: Verdict;
  /** The reservation deadlines of an order (none for other streams). */
  readonly deadlines: readonly Deadline[];
  /** Events read past the index's checkpoint to be complete (0: the index was up to date). */
  readonly scannedPastIndex: number;
  readonly indexNeverRan: boolean;
}

/** How many events of a stream `explain <stream>` starts from (its latest ones). */
export const DEFAULT_STREAM_EVENTS = 100;

const correlationRefs = (events: readonly RecordedEvent[]): string[] => [
  ...new Set(events.flatMap((e) => (typeof e.metadata.correlationId === 'string' ? [`correlation:${e.metadata.correlationId}`] : []))),
];

const treeOf = (events: readonly EventView[]): StoryNode[] => {
  const children = new Map<string, EventView[]>();
  const ids = new Set(events.map((e) => e.id));
  const roots: EventView[] = [];
  for (const event of events) {
    const parent = event.causationId;
    if (parent !== undefined && parent !== event.id && ids.has(parent)) children.set(parent, [...(children.get(parent) ?? []), event]);
    else roots.push(event);
  }
  const node = (event: EventView): StoryNode => ({ event, children: (children.get(event.id) ?? []).map(node) });
  return roots.map(node);
};

const deadlinesOf = (subject: Story['subject'], events: readonly EventView[]): Deadline[] => {
  if (subject.kind !== 'order') return [];
  const ofOrder = events.filter((e) => textField(e.data, 'orderId') === subject.id);
  return ofOrder.flatMap((reserved) => {
    const sku = textField(reserved.data, 'sku');
    const expiresAt = textField(reserved.data, 'expiresAt');
    if (reserved.type !== 'StockReserved' || sku === undefined || expiresAt === undefined) return [];
    const ended = ofOrder.find((e) => e.position > reserved.position && textField(e.data, 'sku') === sku && (e.type === 'StockCommitted' || e.type === 'StockReleased'));
    const outcome = ended === undefined ? 'open' : ended.type === 'StockCommitted' ? 'committed' : 'released';
    return [{ sku, expiresAt, outcome, setBy: reserved }];
  });
};

const story = async (
  log: EventLog,
  index: EventIndex,
  subject: Story['subject'],
  seed: readonly RecordedEvent[],
  extraRefs: readonly string[],
  /** The subject stream's state, as its decider holds it. */
  state: unknown,
): Promise<Story> => {
  const found = await readByRefs(log, index, [...extraRefs, ...correlationRefs(seed)]);
  const byPosition = new Map<bigint, RecordedEvent>();
  for (const event of [...seed, ...found.events]) byPosition.set(event.position, event);
  const recorded = [...byPosition.values()].sort((a, b) => (a.position < b.position ? -1 : 1));
  const events = recorded.map(viewOf);
  return {
    subject,
    events,
    roots: treeOf(events),
    state: toPlain(state),
    verdict: verdictOf(subject, state, events),
    deadlines: deadlinesOf(subject, events),
    scannedPastIndex: found.scanned,
    indexNeverRan: found.unindexed,
  };
};

/** Marked as a replay when tracing is on (platform/tracing.ts): it never joins a live trace. */
export const explainOrder = (log: EventLog, index: EventIndex, orderId: string): Promise<Story> =>
  inReplaySpan('replay explain order', { 'keel.order_id': orderId }, () => explainOrderStory(log, index, orderId));

const explainOrderStory = async (log: EventLog, index: EventIndex, orderId: string): Promise<Story> => {
  const streamId = orderStreamId(orderId);
  const seed: RecordedEvent[] = [];
  for await (const event of log.readStream(streamId)) seed.push(event);
  if (seed.length === 0) {
    throw new KeelError('KEEL_ERR_ORDER_NOT_FOUND', `No order "${orderId}": stream ${streamId} has no events. Find orders with: keel events --all --stream-prefix order-`, { orderId });
  }
  // The seed is the whole order stream: its state is their fold.
  const { aggregate } = streamKindOf(streamId);
  const state = fold(aggregate.decider, seed.map((event) => aggregate.fromStored(event)));
  return story(log, index, { kind: 'order', id: orderId, streamId }, seed, [`order:${orderId}`], state);
};

/**
 * The story of any stream: its latest `limit` events and everything correlated with them. The
 * verdict folds the whole stream (at replay speed) for its state.
 */
export const explainStream = async (log: EventLog, index: EventIndex, streamId: string, limit = DEFAULT_STREAM_EVENTS): Promise<Story> => {
  streamKindOf(streamId);
  const latest: RecordedEvent[] = [];
  for await (const event of log.readStream(streamId, { direction: 'backwards', maxCount: limit })) latest.unshift(event);
  if (latest.length === 0) throw streamNotFound(streamId);
  const { rawState } = await replayStream(log, streamId);
  return story(log, index, { kind: 'stream', id: streamId, streamId }, latest, [], rawState);
};

/** How far up the causation chain `causesOf` follows an event's causes. */
export const CAUSE_DEPTH = 6;

export interface Causes {
  /** The events that caused the event, nearest first. */
  readonly causes: readonly EventView[];
  readonly scannedPastIndex: number;
  readonly indexNeverRan: boolean;
}

/**
 * The events that caused `event`, nearest first, up to `depth`, as far as they are events (a
 * client's command ends the chain). A process manager's reactions share the correlation id of
 * what caused them, so one read of the correlation usually holds the whole chain; a cause outside
 * it is looked up by its id.
 */
export const causesOf = async (log: EventLog, index: EventIndex, event: EventView, depth = CAUSE_DEPTH): Promise<Causes> => {
  const refs = [
    ...(event.correlationId === undefined ? [] : [`correlation:${event.correlationId}`]),
    ...(event.causationId === undefined ? [] : [`event:${event.causationId}`]),
  ];
  const first = await readByRefs(log, index, refs);
  const byId = new Map(first.events.map((e) => [e.id, e]));
  let scannedPastIndex = first.scanned;
  const causes: EventView[] = [];
  const seen = new Set([event.id]);
  for (let next = event.causationId; next !== undefined && causes.length < depth && !seen.has(next); ) {
    seen.add(next);
    let found = byId.get(next);
    if (found === undefined) {
      const read = await readByRefs(log, index, [`event:${next}`]);
      scannedPastIndex = Math.max(scannedPastIndex, read.scanned);
      found = read.events.find((e) => e.id === next);
      if (found === undefined) break;
    }
    const view = viewOf(found);
    causes.push(view);
    next = view.causationId;
  }
  return { causes, scannedPastIndex, indexNeverRan: first.unindexed };
};

