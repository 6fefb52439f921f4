/**
 * Text for people of `keel events`, `keel replay` and `keel explain`: event tables and lines, state
 * diffs (`+ path: value`, `- path: value`, `~ path: before → after`), causation trees drawn with
 * box-drawing characters, and the JSON forms for scripts. Colour only on a terminal, never when
 * NO_COLOR is set: every function takes `colour` and never looks at the process itself.
 */
import { styleText } from 'node:util';
import {
  diffStates,
  eventJson,
  type Change,
  type DecideOutcome,
  type EventView,
  type PlainEvent,
  type RedecideFinding,
  type RedecideSummary,
  type ReplayOutcome,
  type ReplayStep,
  type Story,
  type StoryNode,
} from '../replay/index.js';
import { table } from './projections-format.js';

/** How wide the data column may get on a terminal (compact JSON, cut with an ellipsis). */
export const TERMINAL_DATA_WIDTH = 80;

/** Colour for `stream`: only a terminal, and never when NO_COLOR is set (https://no-color.org). */
export const colourFor = (stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean =>
  stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');

type Style = Parameters<typeof styleText>[0];

/** `text` styled when `colour` (the caller decided: styleText must not second-guess the stream). */
export const paint = (colour: boolean, style: Style, text: string): string => (colour ? styleText(style, text, { validateStream: false }) : text);

const jsonReplacer = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

/** Compact JSON (bigints as strings), cut to `max` characters with an ellipsis. */
export const compact = (value: unknown, max?: number): string => {
  const text = value === undefined ? 'undefined' : (JSON.stringify(value, jsonReplacer) ?? String(value));
  return max !== undefined && text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text;
};

/** Indented JSON, for states. */
export const pretty = (value: unknown): string => JSON.stringify(value, jsonReplacer, 2) ?? 'null';

const short = (text: string, max: number): string => (text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text);

// ---------------------------------------------------------------------------------------------
// Diffs

const pathText = (path: string): string => (path === '' ? '(state)' : path);

/** One change: `+ path: value` (green), `- path: value` (red), `~ path: before → after` (yellow). */
export const changeLine = (change: Change, colour = false): string => {
  const path = pathText(change.path);
  if (change.kind === 'added') return paint(colour, 'green', `+ ${path}: ${compact(change.after)}`);
  if (change.kind === 'removed') return paint(colour, 'red', `- ${path}: ${compact(change.before)}`);
  return paint(colour, 'yellow', `~ ${path}: ${compact(change.before)} → ${compact(change.after)}`);
};

export const changeLines = (changes: readonly Change[], colour = false, indent = '    '): string[] =>
  changes.length === 0 ? [`${indent}(no change to the state)`] : changes.map((c) => `${indent}${changeLine(c, colour)}`);

// ---------------------------------------------------------------------------------------------
// Events

const id = (value: string | undefined): string => value ?? '-';

export const eventsTable = (events: readonly EventView[], options: { readonly dataWidth?: number } = {}): string =>
  table(
    ['POSITION', 'STREAM', 'REV', 'TIME', 'TYPE', 'ACTOR', 'COMMAND', 'CORRELATION', 'CAUSATION', 'DATA'],
    events.map((e) => [
      e.position.toString(),
      e.streamId,
      e.revision.toString(),
      e.time.toISOString(),
      e.type,
      id(e.actor),
      id(e.commandId),
      id(e.correlationId),
      id(e.causationId),
      compact(e.data, options.dataWidth),
    ]),
  );

/** One event on one line (`--follow` without --ndjson, where a table cannot be aligned ahead). */
export const eventLine = (e: EventView, options: { readonly dataWidth?: number } = {}): string =>
  [e.position.toString(), `${e.streamId}@${e.revision}`, e.time.toISOString(), e.type, id(e.actor), `command=${id(e.commandId)}`, `correlation=${id(e.correlationId)}`, `causation=${id(e.causationId)}`, compact(e.data, options.dataWidth)].join('  ');

/** `--ndjson`: one event per line. */
export const eventNdjson = (e: EventView): string => JSON.stringify(eventJson(e));

// ---------------------------------------------------------------------------------------------
// Replay

const commandOf = (e: EventView): string => (e.commandType === undefined && e.commandId === undefined ? 'no command recorded' : `${e.commandType ?? '?'} ${e.commandId ?? '?'}`);

/** The heading of one replayed event: revision, position, time, type, actor, command. */
export const eventHeading = (e: EventView, colour = false): string =>
  `${paint(colour, 'bold', `#${e.revision} ${e.type}`)}  position ${e.position}  ${e.time.toISOString()}  by ${e.actor ?? '-'}  (${commandOf(e)})`;

/** One step of `keel replay`: the event, then how it changed the state. */
export const stepText = (step: ReplayStep, colour = false): string => [eventHeading(step.event, colour), ...changeLines(step.changes, colour)].join('\n');

export const stepJson = (step: ReplayStep) => ({ index: step.index, event: eventJson(step.event), changes: step.changes.map(changeJson) });

export const changeJson = (c: Change) => ({ kind: c.kind, path: c.path, ...(c.before === undefined ? {} : { before: c.before }), ...(c.after === undefined ? {} : { after: c.after }) });

/** What stopped the replay, in words, for the heading of the final state. */
export const finalHeading = (outcome: ReplayOutcome): string => {
  const of = `${outcome.streamId} (${outcome.aggregate})`;
  if (outcome.events === 0) return `State of ${of}: no event folded`;
  const through = `after revision ${outcome.revision} of ${outcome.lastRevision}, ${outcome.events} event(s) folded`;
  const why = { end: '', 'to-revision': ', stopped by --to-revision', at: ', stopped by --at', 'at-position': ', stopped by --at-position', condition: ', stopped by --until' }[outcome.stop.reason];
  return `State of ${of} ${through}${why}:`;
};

export const causeLine = (e: EventView): string => `${e.type}  ${e.streamId}@${e.revision}  position ${e.position}  by ${e.actor ?? '-'}  ${keyData(e.data)}`.trimEnd();

/** `--until`: the event after which the condition first held, its command and its causes. */
export const stopText = (
  condition: string,
  stop: { readonly step: ReplayStep; readonly command: { readonly commandId: string; readonly type: string | undefined; readonly data: unknown } | undefined },
  causes: readonly EventView[],
  colour = false,
): string => {
  const e = stop.step.event;
  const lines = [
    paint(colour, 'bold', `${condition} first holds after #${e.revision} ${e.type} (position ${e.position}, ${e.time.toISOString()}, by ${e.actor ?? '-'})`),
    stop.command === undefined
      ? '  command: not recorded (the event predates recorded commands, or its command began in an earlier event)'
      : `  command: ${stop.command.type ?? '?'} ${stop.command.commandId} ${compact(stop.command.data)}`,
  ];
  if (causes.length === 0) lines.push(`  cause: ${e.causationId === undefined || e.causationId === e.commandId ? 'the command itself (no event caused it)' : `event ${e.causationId}, not found`}`);
  causes.forEach((cause, i) => lines.push(`  ${'  '.repeat(i)}${i === 0 ? 'caused by' : '└ caused by'}: ${causeLine(cause)}`));
  return lines.join('\n');
};

export const stopJson = (
  outcome: ReplayOutcome,
  causes: readonly EventView[],
): Record<string, unknown> => {
  const { stop } = outcome;
  if (stop.reason !== 'condition') return { reason: stop.reason, ...(outcome.conditionMet === false ? { conditionMet: false } : {}) };
  return {
    reason: 'condition',
    conditionMet: true,
    event: eventJson(stop.step.event),
    command: stop.command === undefined ? null : { commandId: stop.command.commandId, type: stop.command.type ?? null, data: stop.command.data ?? null },
    causes: causes.map(eventJson),
  };
};

// ---------------------------------------------------------------------------------------------
// Decide and redecide

const eventsLines = (events: readonly PlainEvent[], indent: string): string[] =>
  events.length === 0 ? [`${indent}(no events)`] : events.map((e) => `${indent}${e.type} ${compact(e.data)}`);

export const decideText = (commandType: string, outcome: DecideOutcome, atEnd: boolean, colour = false): string => {
  const where = outcome.revision < 0n ? 'before its first event' : `at revision ${outcome.revision}${atEnd ? ' (its last)' : ''}`;
  const head = `${commandType} against ${outcome.streamId} ${where}:`;
  const { decision } = outcome;
  if (decision.kind === 'refused') {
    return [head, paint(colour, 'red', `  refused: ${decision.message} [${decision.code}]`), `  details: ${compact(decision.details)}`, '  Nothing was appended: this is what the command would meet.'].join('\n');
  }
  return [
    head,
    `  would append ${decision.events.length} event(s):`,
    ...eventsLines(decision.events, '    '),
    '  and change the state:',
    ...changeLines(diffStates(outcome.stateBefore, decision.state), colour),
    '  State it would lead to:',
    ...pretty(decision.state)
      .split('\n')
      .map((l) => `    ${l}`),
    '  Nothing was appended.',
  ].join('\n');
};

export const decideJson = (commandType: string, outcome: DecideOutcome) => ({
  streamId: outcome.streamId,
  commandType,
  revision: outcome.revision.toString(),
  stateBefore: outcome.stateBefore,
  decision:
    outcome.decision.kind === 'refused'
      ? { kind: 'refused', code: outcome.decision.code, message: outcome.decision.message, details: outcome.decision.details }
      : { kind: 'events', events: outcome.decision.events, state: outcome.decision.state, changes: diffStates(outcome.stateBefore, outcome.decision.state).map(changeJson) },
});

const VERDICT_TEXT: Record<RedecideFinding['verdict'], string> = {
  same: 'same',
  different: 'DIFFERENT',
  'refused-now': 'REFUSED NOW',
  'invalid-now': 'INVALID NOW',
  'not-recorded': 'not recorded',
};

const revisions = (f: RedecideFinding): string => (f.firstRevision === f.lastRevision ? `revision ${f.firstRevision}` : `revisions ${f.firstRevision}..${f.lastRevision}`);

/** One command that came out other than it did: what was stored, what today's decider does. */
export const findingText = (f: RedecideFinding, colour = false): string => {
  const lines = [paint(colour, f.verdict === 'same' ? 'green' : 'red', `${VERDICT_TEXT[f.verdict]}: ${revisions(f)} (position ${f.position})  ${f.commandType ?? '?'} ${f.commandId}`)];
  lines.push('  stored:', ...eventsLines(f.recorded, '    '));
  if (f.error !== undefined) lines.push(`  today: ${f.error.message} [${f.error.code}]`);
  else lines.push('  today:', ...eventsLines(f.decided, '    '));
  for (const d of f.differences) {
    if (d.recordedType !== undefined && d.decidedType !== undefined && d.recordedType === d.decidedType) {
      lines.push(`  event ${d.index} (${d.recordedType}), stored → today:`, ...changeLines(d.changes, colour));
    } else {
      lines.push(`  event ${d.index}: stored ${d.recordedType ?? '(none)'}, today ${d.decidedType ?? '(none)'}`);
    }
  }
  return lines.join('\n');
};

export const summaryLine = (s: RedecideSummary): string =>
  `${s.streamId}: ${s.commands} command(s): ${s.same} same, ${s.different} different, ${s.refusedNow} refused now, ${s.invalidNow} invalid now, ${s.notRecorded} not recorded`;

export const findingJson = (f: RedecideFinding) => ({
  ...f,
  firstRevision: f.firstRevision.toString(),
  lastRevision: f.lastRevision.toString(),
  position: f.position.toString(),
  differences: f.differences.map((d) => ({ ...d, changes: d.changes.map(changeJson) })),
});

export const summaryJson = (s: RedecideSummary) => ({ ...s, findings: s.findings.map(findingJson) });

// ---------------------------------------------------------------------------------------------
// Explain

const scalar = (value: unknown): string | undefined => {
  if (typeof value === 'string') return /^[\w.:@+-]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === null) return String(value);
  return undefined;
};

/**
 * Fields an event's own time already says (`placedAt`, `reservedAt`, …), left out of key data;
 * deadlines (`expiresAt`) stay.
 */
const isOwnTimestamp = (key: string): boolean => key.endsWith('At') && key !== 'expiresAt';

/** The data fields worth a glance, `key=value` (lists as compact JSON), cut to `max`. */
export const keyData = (data: unknown, max = 80): string => {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return short(scalar(data) ?? compact(data), max);
  const parts = Object.entries(data as Record<string, unknown>)
    .filter(([k]) => !isOwnTimestamp(k))
    .map(([k, v]) => `${k}=${scalar(v) ?? compact(v)}`);
  return short(parts.join(' '), max);
};

const storyRow = (prefix: string, e: EventView): string[] => [`${prefix}${e.position}`, `${e.streamId}@${e.revision}`, e.type, e.actor ?? '-', keyData(e.data)];

const STORY_HEADER = ['POSITION', 'STREAM@REV', 'TYPE', 'ACTOR', 'DATA'];

/** Rows of the causation tree: each child under its cause, drawn with ├─ └─ │. */
export const treeRows = (roots: readonly StoryNode[]): string[][] => {
  const rows: string[][] = [];
  const walk = (nodes: readonly StoryNode[], indent: string, top: boolean): void => {
    nodes.forEach((node, i) => {
      const last = i === nodes.length - 1;
      rows.push(storyRow(top ? '' : `${indent}${last ? '└─ ' : '├─ '}`, node.event));
      walk(node.children, top ? '' : `${indent}${last ? '   ' : '│  '}`, false);
    });
  };
  walk(roots, '', true);
  return rows;
};

const subjectText = (story: Story): string => {
  const streams = new Set(story.events.map((e) => e.streamId)).size;
  const what = story.subject.kind === 'order' ? `Order ${story.subject.id}` : `Stream ${story.subject.streamId}`;
  return `${what}: ${story.events.length} event(s) in ${streams} stream(s)`;
};

/** An order's reservation deadlines, one line each: what became of each reservation. */
export const deadlineLines = (deadlines: Story['deadlines']): string[] =>
  deadlines.map((d) => `reservation of ${d.sku} until ${d.expiresAt}: ${d.outcome} (set by ${d.setBy.type} at position ${d.setBy.position})`);

/**
 * The story: a heading, the causation tree (or `timeline`: position order), an order's reservation
 * deadlines, and the verdict as the last line.
 */
export const storyText = (story: Story, options: { readonly timeline?: boolean; readonly colour?: boolean } = {}): string => {
  const body = options.timeline === true ? table(STORY_HEADER, story.events.map((e) => storyRow('', e))) : table(STORY_HEADER, treeRows(story.roots));
  const deadlines = deadlineLines(story.deadlines);
  return [subjectText(story), '', body, ...(deadlines.length === 0 ? [] : ['', ...deadlines]), '', paint(options.colour === true, 'bold', story.verdict.text)].join('\n');
};

type NodeJson = { readonly event: Record<string, unknown>; readonly children: readonly NodeJson[] };
const nodeJson = (node: StoryNode): NodeJson => ({ event: eventJson(node.event), children: node.children.map(nodeJson) });

export const storyJson = (story: Story) => ({
  subject: story.subject,
  events: story.events.map(eventJson),
  roots: story.roots.map(nodeJson),
  state: story.state,
  verdict: { status: story.verdict.status, text: story.verdict.text, cause: story.verdict.cause === undefined ? null : eventJson(story.verdict.cause) },
  deadlines: story.deadlines.map((d) => ({ sku: d.sku, expiresAt: d.expiresAt, outcome: d.outcome, setBy: eventJson(d.setBy) })),
  scannedPastIndex: story.scannedPastIndex,
  indexNeverRan: story.indexNeverRan,
});

/** The warning for stderr when the index lagged or never ran, or undefined. */
export const indexWarning = (story: Pick<Story, 'scannedPastIndex' | 'indexNeverRan'>): string | undefined => {
  if (story.indexNeverRan) return `warning: the event index has never run; the whole log was scanned (${story.scannedPastIndex} events): run a projector, \`keel serve --role projector\``;
  if (story.scannedPastIndex > 0) return `warning: the event index is ${story.scannedPastIndex} events behind; the rest was scanned: run a projector, \`keel serve --role projector\``;
  return undefined;
};
