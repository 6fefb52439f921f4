/**
 * The in-memory transaction log of the EventStoreDB protocol double (a FAKE for tests, not
 * EventStoreDB): `$all` in commit order, streams with dense revisions, soft deletion and
 * tombstones, and EventStoreDB's append rules (expected revision, idempotency by event id).
 *
 * Positions are not dense: each event advances the log by its size plus a record header, as
 * byte offsets in a real log do, so an adapter cannot rely on neighbouring positions.
 */
import { randomUUID } from 'node:crypto';

export interface ProposedEvent {
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
}

export interface StoredEvent extends ProposedEvent {
  readonly streamId: string;
  readonly revision: bigint;
  /** Commit position; the prepare position is the same. */
  readonly position: bigint;
  /** 100-nanosecond ticks since the Unix epoch. */
  readonly created: bigint;
}

export type Expectation =
  | { readonly kind: 'any' }
  | { readonly kind: 'no_stream' }
  | { readonly kind: 'exists' }
  | { readonly kind: 'revision'; readonly revision: bigint };

export type AppendOutcome =
  | { readonly ok: true; readonly revision: bigint; readonly position: bigint; readonly idempotent?: true }
  | { readonly ok: false; readonly reason: 'wrong_expected_version'; readonly current: bigint | undefined }
  | { readonly ok: false; readonly reason: 'stream_deleted' }
  | { readonly ok: false; readonly reason: 'too_large'; readonly max: number };

interface StreamState {
  readonly events: StoredEvent[];
  /** Revisions below this are hidden (soft delete sets it past the last event). */
  truncateBefore: bigint;
  softDeleted: boolean;
  tombstoned: boolean;
}

const RECORD_HEADER = 128n;
/** EventStoreDB's default maximum append size. */
export const MAX_APPEND_SIZE = 1_048_576;
const ticksNow = (): bigint => BigInt(Date.now()) * 10_000n;
const bytes = (text: string): Uint8Array => Buffer.from(text, 'utf8');

export class DoubleLog {
  readonly all: StoredEvent[] = [];
  private readonly streams = new Map<string, StreamState>();
  /** Event id → where it was first written (EventStoreDB keeps a cache of recent ones). */
  private readonly ids = new Map<string, StoredEvent>();
  private nextPosition = 1_024n;
  private waiters: (() => void)[] = [];

  /** Current revision of a stream for expectation checks; undefined when it has no events. */
  private current(state: StreamState | undefined): bigint | undefined {
    const last = state?.events.at(-1);
    return last === undefined ? undefined : last.revision;
  }

  /** Events a reader sees, or 'not_found' / 'deleted'. */
  visible(streamId: string): readonly StoredEvent[] | 'not_found' | 'deleted' {
    const state = this.streams.get(streamId);
    if (state?.tombstoned) return 'deleted';
    if (state === undefined) return 'not_found';
    const events = state.events.filter((e) => e.revision >= state.truncateBefore);
    return events.length === 0 && state.softDeleted ? 'not_found' : events;
  }

  append(streamId: string, expected: Expectation, proposed: readonly ProposedEvent[]): AppendOutcome {
    const state = this.streams.get(streamId);
    if (state?.tombstoned) return { ok: false, reason: 'stream_deleted' };
    const size = proposed.reduce((sum, e) => sum + e.data.length + e.customMetadata.length, 0);
    if (size > MAX_APPEND_SIZE) return { ok: false, reason: 'too_large', max: MAX_APPEND_SIZE };
    const current = this.current(state);
    const visibleNone = current === undefined || state?.softDeleted === true;
    const wrong = { ok: false, reason: 'wrong_expected_version', current } as const;
    if (expected.kind === 'any' || expected.kind === 'exists') {
      const replay = this.replayByIds(streamId, proposed);
      if (replay === 'corrupted') return wrong;
      if (replay !== undefined) return replay;
      if (expected.kind === 'exists' && visibleNone) return wrong;
      return this.write(streamId, proposed);
    }
    const after = expected.kind === 'no_stream' ? -1n : expected.revision;
    if (expected.kind === 'no_stream' && visibleNone) return this.write(streamId, proposed);
    if (after === (current ?? -1n)) return this.write(streamId, proposed);
    if (after < (current ?? -1n) && state !== undefined) {
      // A re-send: every id must match the events written after `after`, in order.
      const matched = proposed.every((e, i) => state.events[Number(after) + 1 + i]?.id === e.id);
      const last = state.events[Number(after) + proposed.length];
      if (matched && last !== undefined && proposed.length > 0) return { ok: true, revision: last.revision, position: last.position, idempotent: true };
    }
    return wrong;
  }

  /** `any`/`exists` idempotency: the first id known in this stream makes it a re-send, which must match in full. */
  private replayByIds(streamId: string, proposed: readonly ProposedEvent[]): AppendOutcome | 'corrupted' | undefined {
    const first = proposed[0] === undefined ? undefined : this.ids.get(proposed[0].id);
    if (first === undefined || first.streamId !== streamId) return undefined;
    let last = first;
    for (const [i, e] of proposed.entries()) {
      const stored = this.ids.get(e.id);
      if (stored === undefined || stored.streamId !== streamId || stored.revision !== first.revision + BigInt(i)) return 'corrupted';
      last = stored;
    }
    return { ok: true, revision: last.revision, position: last.position, idempotent: true };
  }

  private write(streamId: string, proposed: readonly ProposedEvent[]): AppendOutcome {
    let state = this.streams.get(streamId);
    if (state === undefined) {
      state = { events: [], truncateBefore: 0n, softDeleted: false, tombstoned: false };
      this.streams.set(streamId, state);
    }
    state.softDeleted = false;
    const created = ticksNow();
    let revision = this.current(state) ?? -1n;
    let position = -1n;
    for (const e of proposed) {
      revision += 1n;
      position = this.nextPosition;
      const stored: StoredEvent = { ...e, streamId, revision, position, created };
      this.nextPosition += RECORD_HEADER + BigInt(e.data.length + e.customMetadata.length + e.type.length + streamId.length);
      state.events.push(stored);
      this.all.push(stored);
      if (!this.ids.has(e.id)) this.ids.set(e.id, stored);
    }
    if (proposed.length === 0) position = state.events.at(-1)?.position ?? -1n;
    this.wakeAll();
    return { ok: true, revision, position };
  }

  /** Writes a system event to `$all` (a stream's metadata, a tombstone, the server's own records). */
  writeSystem(streamId: string, type: string, data: unknown, revision = 0n): bigint {
    const position = this.nextPosition;
    const payload = bytes(JSON.stringify(data));
    const id = randomUUID();
    this.all.push({ id, type, contentType: 'application/json', data: payload, customMetadata: new Uint8Array(), streamId, revision, position, created: ticksNow() });
    this.nextPosition += RECORD_HEADER + BigInt(payload.length);
    this.wakeAll();
    return position;
  }

  /** Soft delete: readers see no stream; the next append re-creates it, revisions continue. */
  softDelete(streamId: string, expected: Expectation): AppendOutcome {
    const check = this.checkDelete(streamId, expected);
    if (check !== undefined) return check;
    const state = this.streams.get(streamId);
    const last = this.current(state) ?? -1n;
    if (state) {
      state.softDeleted = true;
      state.truncateBefore = last + 1n;
    }
    return { ok: true, revision: last, position: this.writeSystem(`$$${streamId}`, '$metadata', { $tb: (last + 1n).toString() }) };
  }

  /** Tombstone: the stream is gone for good; reads and appends fail with stream-deleted. */
  tombstone(streamId: string, expected: Expectation): AppendOutcome {
    const check = this.checkDelete(streamId, expected);
    if (check !== undefined) return check;
    let state = this.streams.get(streamId);
    if (state === undefined) {
      state = { events: [], truncateBefore: 0n, softDeleted: false, tombstoned: false };
      this.streams.set(streamId, state);
    }
    state.tombstoned = true;
    return { ok: true, revision: this.current(state) ?? -1n, position: this.writeSystem(streamId, '$streamDeleted', {}, 2n ** 63n - 1n) };
  }

  private checkDelete(streamId: string, expected: Expectation): AppendOutcome | undefined {
    const state = this.streams.get(streamId);
    if (state?.tombstoned) return { ok: false, reason: 'stream_deleted' };
    const current = state?.softDeleted ? undefined : this.current(state);
    const ok =
      expected.kind === 'any' ||
      (expected.kind === 'no_stream' && current === undefined) ||
      (expected.kind === 'exists' && current !== undefined) ||
      (expected.kind === 'revision' && expected.revision === current);
    return ok ? undefined : { ok: false, reason: 'wrong_expected_version', current };
  }

  /** Index in `all` of the first event with a position above `position` (binary search). */
  indexAfter(position: bigint): number {
    let lo = 0;
    let hi = this.all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.all[mid];
      if (at !== undefined && at.position <= position) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Resolves at the next write, or when `signal` aborts. */
  nextWrite(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
