/**
 * Replay debugging, read-only: fold a stream through its decider with a state diff per event
 * (`replayStream`), decide a command against past state without appending (`decideAt`,
 * `redecide`), list and tail events (`listEvents`), and tell an order's story across streams
 * (`explainOrder`, `explainStream`). Used by cli/ and by the inspector in api/.
 */
export { parseBound, parsePosition, parseRevision, parseTime, type Bound } from './bounds.js';
export { parseCondition, holds, OPERATORS, type Condition, type Operator } from './condition.js';
export { decideAt, parseCommandText, redecide, type DecideOutcome, type Decision, type PlainEvent, type RedecideFinding, type RedecideSummary, type RedecideVerdict } from './decide.js';
export { diffStates, type Change } from './diff.js';
export { readByRefs, type EventIndex, type IndexedEventRef, type IndexedRead } from './event-index.js';
export { eventJson, viewOf, type EventView } from './event-view.js';
export { listEvents, type EventQuery } from './events.js';
export { CAUSE_DEPTH, causesOf, DEFAULT_STREAM_EVENTS, explainOrder, explainStream, type Causes, type Deadline, type Story, type StoryNode } from './explain.js';
export { streamBounds, type EventLog } from './log.js';
export { toPlain, valueAt, type Plain } from './plain.js';
export { replayStream, type RecordedCommand, type ReplayOptions, type ReplayOutcome, type ReplayStep, type ReplayStop } from './replay.js';
export { STREAM_KINDS, streamKindOf, type StreamKind } from './streams.js';
export type { Verdict } from './verdict.js';
