/**
 * The index `keel explain` and `keel events --correlation` read instead of scanning the log: which
 * events carry a ref (`event:<id>`, `correlation:<id>`, `order:<id>`, `payment:<id>`,
 * `product:<id>`). Replay declares what it needs; the `event_index` projection provides it (wired by
 * cli/ and api/), so the same index serves every event store, EventStoreDB included. The index is
 * read up to its checkpoint and the log after it is scanned: an index that lags, or never ran,
 * makes the answer slower, never wrong.
 */
import type { RecordedEvent } from '../eventstore/port.js';
import { readOne, type EventLog } from './log.js';

export interface IndexedEventRef {
  readonly position: bigint;
  readonly streamId: string;
  readonly revision: bigint;
}

export interface EventIndex {
  /** The events that carry any of `refs`, in position order, as far as the index has got. */
  lookup(refs: readonly string[]): Promise<readonly IndexedEventRef[]>;
  /** Every event at or below this position is indexed; undefined: the index never ran. */
  checkpoint(): Promise<bigint | undefined>;
  /** The refs of one event (how the index names it), to match the log beyond the checkpoint. */
  refsOf(event: RecordedEvent): readonly string[];
}

export interface IndexedRead {
  readonly events: readonly RecordedEvent[];
  /** Events scanned past the index's checkpoint (0 when it is up to date). */
  readonly scanned: number;
  /** Whether the index had never run (the whole log was scanned). */
  readonly unindexed: boolean;
}

/** The events carrying any of `refs`: from the index, then the log past its checkpoint. */
export const readByRefs = async (log: EventLog, index: EventIndex, refs: readonly string[]): Promise<IndexedRead> => {
  const checkpoint = await index.checkpoint();
  const found = new Map<bigint, RecordedEvent>();
  const hits = await index.lookup(refs);
  const events = await Promise.all(hits.filter((hit) => checkpoint === undefined || hit.position <= checkpoint).map((hit) => readOne(log, hit.streamId, hit.revision)));
  for (const event of events) if (event) found.set(event.position, event);
  const wanted = new Set(refs);
  let scanned = 0;
  for await (const event of log.readAll(checkpoint === undefined ? {} : { after: checkpoint })) {
    scanned += 1;
    if (index.refsOf(event).some((ref) => wanted.has(ref))) found.set(event.position, event);
  }
  return { events: [...found.values()].sort((a, b) => (a.position < b.position ? -1 : 1)), scanned, unindexed: checkpoint === undefined };
};
