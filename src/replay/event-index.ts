/**
 * The index `keel explain` and `keel events --correlation` read instead of scanning the log: which
 * events carry a ref (`event:<id>`, `correlation:<id>`, `order:<id>`, `payment:<id>`,
 * `product:<id>`). Replay declares what it needs; the `event_index` projection provides it (wired by
 * cli/ and api/), so the same index serves every event store, EventStoreDB included. The index is
 * read up to its checkpoint and the log after it is scanned: an index that lags, or never ran,
 * makes the answer slower, never wrong.
 */
import type { RecordedEvent } from '../eventstore/port.js';
import type { EventLog } from './log.js';

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

/**
 * The events the index pointed at, one read per run of consecutive revisions of a stream (the
 * reservations of a story's orders often sit side by side in a hot inventory stream).
 */
const readHits = async (log: EventLog, hits: readonly IndexedEventRef[]): Promise<RecordedEvent[]> => {
  const sorted = [...hits].sort((a, b) => (a.streamId !== b.streamId ? (a.streamId < b.streamId ? -1 : 1) : a.revision < b.revision ? -1 : a.revision > b.revision ? 1 : 0));
  const runs: { streamId: string; from: bigint; count: number }[] = [];
  for (const hit of sorted) {
    const run = runs.at(-1);
    // Hits are distinct events (the index answers each once).
    if (run && run.streamId === hit.streamId && run.from + BigInt(run.count) === hit.revision) run.count += 1;
    else runs.push({ streamId: hit.streamId, from: hit.revision, count: 1 });
  }
  const reads = await Promise.all(runs.map(async ({ streamId, from, count }) => {
    const events: RecordedEvent[] = [];
    for await (const event of log.readStream(streamId, { fromRevision: from, maxCount: count })) events.push(event);
    return events;
  }));
  return reads.flat();
};

/** The events carrying any of `refs`: from the index, then the log past its checkpoint. */
export const readByRefs = async (log: EventLog, index: EventIndex, refs: readonly string[]): Promise<IndexedRead> => {
  const checkpoint = await index.checkpoint();
  const found = new Map<bigint, RecordedEvent>();
  const hits = (await index.lookup(refs)).filter((hit) => checkpoint === undefined || hit.position <= checkpoint);
  for (const event of await readHits(log, hits)) found.set(event.position, event);
  const wanted = new Set(refs);
  let scanned = 0;
  for await (const event of log.readAll(checkpoint === undefined ? {} : { after: checkpoint })) {
    scanned += 1;
    if (index.refsOf(event).some((ref) => wanted.has(ref))) found.set(event.position, event);
  }
  return { events: [...found.values()].sort((a, b) => (a.position < b.position ? -1 : 1)), scanned, unindexed: checkpoint === undefined };
};
