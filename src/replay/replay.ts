/**
 * `keel replay <stream>`: the stream folded through its decider's own `evolve`, event by event,
 * with the production upcasters, optionally up to a revision, a time or a position, or until a
 * condition on the state first holds. Steps (event, state, diff) go to `onStep`; without it only
 * the fold runs, in bounded memory: the stream is read page by page and nothing is kept but the state.
 */
import { inReplaySpan } from '../platform/tracing.js';
import { KeelError } from '../platform/errors.js';
import { holds, type Condition } from './condition.js';
import { diffStates, type Change } from './diff.js';
import { viewOf, type EventView } from './event-view.js';
import { streamBounds, type EventLog } from './log.js';
import { toPlain, type Plain } from './plain.js';
import { streamKindOf } from './streams.js';

export interface ReplayStep {
  /** 0 for the first event replayed. */
  readonly index: number;
  readonly event: EventView;
  /** The state after the event. */
  readonly state: Plain;
  readonly changes: readonly Change[];
}

/** The command that produced an event, as recorded with the command's first event. */
export interface RecordedCommand {
  readonly commandId: string;
  readonly type: string | undefined;
  readonly data: unknown;
}

export type ReplayStop =
  | { readonly reason: 'end' }
  | { readonly reason: 'to-revision' | 'at' | 'at-position' }
  | { readonly reason: 'condition'; readonly step: ReplayStep; readonly command: RecordedCommand | undefined };

export interface ReplayOptions {
  /** Inclusive. */
  readonly toRevision?: bigint;
  /** The state as of this time: events the store recorded at or before it. */
  readonly at?: Date;
  /** Events at or below this position of `$all`. */
  readonly atPosition?: bigint;
  readonly until?: Condition;
  readonly onStep?: (step: ReplayStep) => void | Promise<void>;
  /**
   * With `onStep`: steps begin at this revision. The events before it are folded without the
   * per-event state and diff (a page of a long stream's timeline costs the fold, not the diffs).
   */
  readonly stepsFrom?: bigint;
}

export interface ReplayOutcome {
  readonly streamId: string;
  /** The aggregate (`order`, `inventory`, …). */
  readonly aggregate: string;
  /** Events folded. */
  readonly events: number;
  /** Revision of the last event folded (-1 when none was). */
  readonly revision: bigint;
  /** The stream's last revision, as read when the replay began. */
  readonly lastRevision: bigint;
  readonly state: Plain;
  /** The state object itself, as the decider holds it. */
  readonly rawState: unknown;
  readonly stop: ReplayStop;
  /** With `until`: whether the condition ever held. */
  readonly conditionMet?: boolean;
}

const checkOptions = (streamId: string, options: ReplayOptions, bounds: Awaited<ReturnType<typeof streamBounds>>): void => {
  const { toRevision, at, atPosition } = options;
  if (toRevision !== undefined && (toRevision < 0n || toRevision > bounds.last.revision)) {
    throw new KeelError('KEEL_ERR_REPLAY_BAD_REVISION', `Revision ${toRevision} is outside "${streamId}", whose revisions run from 0 to ${bounds.last.revision}.`, {
      streamId,
      revision: toRevision.toString(),
      lastRevision: bounds.last.revision.toString(),
    });
  }
  if (at !== undefined && at.getTime() < bounds.first.createdAt.getTime()) {
    throw new KeelError('KEEL_ERR_REPLAY_BAD_TIME', `"${streamId}" did not exist at ${at.toISOString()}: its first event was recorded at ${bounds.first.createdAt.toISOString()}.`, {
      streamId,
      at: at.toISOString(),
      firstEventAt: bounds.first.createdAt.toISOString(),
    });
  }
  if (atPosition !== undefined && atPosition < bounds.first.position) {
    throw new KeelError('KEEL_ERR_REPLAY_BAD_POSITION', `"${streamId}" did not exist at position ${atPosition}: its first event is at position ${bounds.first.position}.`, {
      streamId,
      position: atPosition.toString(),
      firstPosition: bounds.first.position.toString(),
    });
  }
};

/** Marked as a replay when tracing is on (platform/tracing.ts): it never joins a live trace. */
export const replayStream = (log: EventLog, streamId: string, options: ReplayOptions = {}): Promise<ReplayOutcome> =>
  inReplaySpan('replay stream', { 'keel.stream': streamId }, () => replay(log, streamId, options));

const replay = async (log: EventLog, streamId: string, options: ReplayOptions): Promise<ReplayOutcome> => {
  const kind = streamKindOf(streamId);
  const bounds = await streamBounds(log, streamId);
  checkOptions(streamId, options, bounds);
  const { aggregate } = kind;
  const { toRevision, at, atPosition, until, onStep } = options;
  const watch = onStep !== undefined || until !== undefined;
  // `until` is checked on every event; steps alone may begin later.
  const watchFrom = until === undefined ? (options.stepsFrom ?? 0n) : 0n;
  let state = aggregate.decider.initialState();
  let plain: Plain = watch && watchFrom === 0n ? toPlain(state) : null;
  let revision = -1n;
  let count = 0;
  let command: RecordedCommand | undefined;
  let stop: ReplayStop = { reason: 'end' };
  const maxCount = toRevision === undefined ? undefined : Number(toRevision) + 1;
  // A bare fold reads no metadata: the adapter may skip it (a third of a row's parsing).
  const read = { ...(maxCount === undefined ? {} : { maxCount }), ...(watch ? {} : { skipMetadata: true }) };
  for await (const stored of log.readStream(streamId, read)) {
    if (at !== undefined && stored.createdAt.getTime() > at.getTime()) {
      stop = { reason: 'at' };
      break;
    }
    if (atPosition !== undefined && stored.position > atPosition) {
      stop = { reason: 'at-position' };
      break;
    }
    state = aggregate.decider.evolve(state, aggregate.fromStored(stored));
    revision = stored.revision;
    count += 1;
    if (!watch) continue;
    if (stored.revision < watchFrom) {
      if (stored.revision === watchFrom - 1n) plain = toPlain(state);
      continue;
    }
    const event = viewOf(stored);
    if (event.commandId !== undefined && event.commandId !== command?.commandId) {
      command = { commandId: event.commandId, type: event.commandType, data: event.commandData };
    }
    const after = toPlain(state);
    const step: ReplayStep = { index: count - 1, event, state: after, changes: diffStates(plain, after) };
    plain = after;
    if (onStep) await onStep(step);
    if (until !== undefined && holds(until, after)) {
      stop = { reason: 'condition', step, command: command?.commandId === event.commandId ? command : undefined };
      break;
    }
  }
  if (stop.reason === 'end' && toRevision !== undefined && toRevision < bounds.last.revision) stop = { reason: 'to-revision' };
  return {
    streamId,
    aggregate: kind.name,
    events: count,
    revision,
    lastRevision: bounds.last.revision,
    state: watch ? plain : toPlain(state),
    rawState: state,
    stop,
    ...(until === undefined ? {} : { conditionMet: stop.reason === 'condition' }),
  };
};
