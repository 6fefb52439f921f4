/**
 * "What would this command do?" without appending: `--decide` runs one command against the state
 * at a revision (or now); `--redecide` runs every recorded command again, with today's deciders,
 * against the state just before it, and reports where the events it would emit differ from the
 * stored ones: a regression check of decider changes against real history.
 */
import { isDeepStrictEqual } from 'node:util';
import type { RecordedEvent } from '../eventstore/port.js';
import { DomainError, KeelError, ValidationError } from '../platform/errors.js';
import { replayStream } from './replay.js';
import { diffStates, type Change } from './diff.js';
import { streamBounds, type EventLog } from './log.js';
import { toPlain, type Plain } from './plain.js';
import { streamKindOf, type StreamKind } from './streams.js';

export interface PlainEvent {
  readonly type: string;
  readonly data: Plain;
}

export type Decision =
  | { readonly kind: 'events'; readonly events: readonly PlainEvent[]; readonly state: Plain }
  | { readonly kind: 'refused'; readonly code: string; readonly message: string; readonly details: Plain };

export interface DecideOutcome {
  readonly streamId: string;
  /** The revision the command was decided against (-1: before the stream's first event). */
  readonly revision: bigint;
  readonly stateBefore: Plain;
  readonly decision: Decision;
}

const badCommand = (streamId: string, kind: StreamKind, why: string): KeelError =>
  new KeelError('KEEL_ERR_REPLAY_BAD_COMMAND', `Not a command of the ${kind.name} aggregate of "${streamId}": ${why}. Send '{"type":"…","data":{…}}' as the write side receives it (keel events shows recorded ones in metadata.commandData).`, { streamId });

/** Parses the command text: JSON, then the write side's own schema. `now` defaults to `now`. */
export const parseCommandText = (streamId: string, text: string, now: Date = new Date()): unknown => {
  const kind = streamKindOf(streamId);
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw badCommand(streamId, kind, `it is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof input === 'object' && input !== null && 'data' in input && typeof input.data === 'object' && input.data !== null && !('now' in input.data)) {
    input = { ...input, data: { ...input.data, now: now.toISOString() } };
  }
  try {
    return kind.parseCommand(input);
  } catch (error) {
    if (error instanceof ValidationError) throw badCommand(streamId, kind, `${error.field}: ${error.message}`);
    throw error;
  }
};

const decideOn = (kind: StreamKind, command: unknown, state: unknown): Decision => {
  try {
    const events = kind.aggregate.decider.decide(command, state);
    let after = state;
    for (const event of events) after = kind.aggregate.decider.evolve(after, event);
    return { kind: 'events', events: events.map((e) => ({ type: e.type, data: toPlain(e.data) })), state: toPlain(after) };
  } catch (error) {
    if (error instanceof DomainError) return { kind: 'refused', code: error.code, message: error.message, details: toPlain(error.details) };
    throw error;
  }
};

/** Decides `command` (already parsed) against the state at `atRevision` (default: the stream's end). */
export const decideAt = async (log: EventLog, streamId: string, command: unknown, options: { readonly atRevision?: bigint } = {}): Promise<DecideOutcome> => {
  const kind = streamKindOf(streamId);
  // The fold, its revision checks and its errors are replay's own.
  const before = await replayStream(log, streamId, options.atRevision === undefined ? {} : { toRevision: options.atRevision });
  return { streamId, revision: before.revision, stateBefore: before.state, decision: decideOn(kind, command, before.rawState) };
};

export type RedecideVerdict = 'same' | 'different' | 'refused-now' | 'invalid-now' | 'not-recorded';

export interface RedecideFinding {
  readonly commandId: string;
  readonly commandType: string | undefined;
  readonly firstRevision: bigint;
  readonly lastRevision: bigint;
  readonly position: bigint;
  readonly verdict: RedecideVerdict;
  readonly recorded: readonly PlainEvent[];
  /** What today's decider emits (empty when it refuses or the command was not recorded). */
  readonly decided: readonly PlainEvent[];
  /** Today's refusal or validation error. */
  readonly error?: { readonly code: string; readonly message: string };
  /** Per event index: how today's event differs from the stored one (`different` only). */
  readonly differences: readonly { readonly index: number; readonly recordedType?: string; readonly decidedType?: string; readonly changes: readonly Change[] }[];
}

export interface RedecideSummary {
  readonly streamId: string;
  readonly commands: number;
  readonly same: number;
  readonly different: number;
  readonly refusedNow: number;
  readonly invalidNow: number;
  readonly notRecorded: number;
  /** Every command that came out different, refused or invalid (in stream order). */
  readonly findings: readonly RedecideFinding[];
}

const differencesOf = (recorded: readonly PlainEvent[], decided: readonly PlainEvent[]): RedecideFinding['differences'] => {
  const out: { index: number; recordedType?: string; decidedType?: string; changes: Change[] }[] = [];
  for (let i = 0; i < Math.max(recorded.length, decided.length); i++) {
    const r = recorded[i];
    const d = decided[i];
    if (r && d && isDeepStrictEqual(r, d)) continue;
    out.push({
      index: i,
      ...(r ? { recordedType: r.type } : {}),
      ...(d ? { decidedType: d.type } : {}),
      changes: r && d && r.type === d.type ? diffStates(r.data, d.data) : [],
    });
  }
  return out;
};

/** Judges one command's group of stored events against what today's decider makes of it. */
const judge = (kind: StreamKind, group: readonly RecordedEvent[], before: unknown): RedecideFinding => {
  const first = group[0] as RecordedEvent;
  const last = group[group.length - 1] as RecordedEvent;
  const commandType = typeof first.metadata.commandType === 'string' ? first.metadata.commandType : undefined;
  const recorded = group.map((stored) => {
    const event = kind.aggregate.fromStored(stored);
    return { type: event.type, data: toPlain(event.data) };
  });
  const base = {
    commandId: String(first.metadata.commandId),
    commandType,
    firstRevision: first.revision,
    lastRevision: last.revision,
    position: first.position,
    recorded,
  };
  if (commandType === undefined || first.metadata.commandData === undefined) {
    return { ...base, verdict: 'not-recorded', decided: [], differences: [] };
  }
  let command: unknown;
  try {
    command = kind.parseCommand({ type: commandType, data: first.metadata.commandData });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { ...base, verdict: 'invalid-now', decided: [], error: { code: error.code, message: `${error.field}: ${error.message}` }, differences: [] };
  }
  const decision = decideOn(kind, command, before);
  if (decision.kind === 'refused') {
    return { ...base, verdict: 'refused-now', decided: [], error: { code: decision.code, message: decision.message }, differences: [] };
  }
  const differences = differencesOf(recorded, decision.events);
  return { ...base, verdict: differences.length === 0 ? 'same' : 'different', decided: decision.events, differences };
};

/**
 * Re-decides every command recorded in `streamId`, in order. The state each command meets is the
 * fold of the STORED events before it (not of today's decisions), so one difference does not
 * cascade into every later command. `onFinding` hears every command judged (same ones too).
 */
export const redecide = async (
  log: EventLog,
  streamId: string,
  onFinding?: (finding: RedecideFinding) => void | Promise<void>,
): Promise<RedecideSummary> => {
  const kind = streamKindOf(streamId);
  await streamBounds(log, streamId);
  const { decider } = kind.aggregate;
  const counts = { commands: 0, same: 0, different: 0, refusedNow: 0, invalidNow: 0, notRecorded: 0 };
  const findings: RedecideFinding[] = [];
  let state = decider.initialState();
  let group: RecordedEvent[] = [];
  const settle = async () => {
    if (group.length === 0) return;
    const finding = judge(kind, group, state);
    for (const stored of group) state = decider.evolve(state, kind.aggregate.fromStored(stored));
    group = [];
    counts.commands += 1;
    const key = ({ same: 'same', different: 'different', 'refused-now': 'refusedNow', 'invalid-now': 'invalidNow', 'not-recorded': 'notRecorded' } as const)[finding.verdict];
    counts[key] += 1;
    // Commands from before commands were recorded are counted, not listed: history can hold millions.
    if (finding.verdict !== 'same' && finding.verdict !== 'not-recorded') findings.push(finding);
    if (onFinding) await onFinding(finding);
  };
  for await (const stored of log.readStream(streamId)) {
    const commandId = stored.metadata.commandId;
    if (group.length > 0 && group[0]?.metadata.commandId !== commandId) await settle();
    group.push(stored);
  }
  await settle();
  return { streamId, ...counts, findings };
};
