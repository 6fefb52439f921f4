import type { RecordedEvent } from '../../eventstore/port.js';
import type { Span } from '../../platform/tracing.js';

/** The shape the handler needs of a decider (src/commands/decider.ts is the full type). */
export interface HandlerDecider<C, E extends DomainEventShape, S> {
  initialState(): S;
  evolve(state: S, event: E): S;
  decide(command: C, state: S): readonly E[];
}

export interface DomainEventShape {
  readonly type: string;
  readonly data: unknown;
}

/** How one aggregate is stored: its decider, and how stored events become domain events. */
export interface Aggregate<C, E extends DomainEventShape, S> {
  readonly name: string;
  readonly decider: HandlerDecider<C, E, S>;
  /** Current schema version of an event type (written with the event). */
  schemaVersion(type: string): number;
  /** Reads a stored event as today's shape (runs upcasters). */
  fromStored(event: RecordedEvent): E;
}

/** Who asked, and when. `now` is passed in: nothing below reads a clock for the domain. */
export interface CommandContext {
  /** The client's idempotency key; event ids derive from it. */
  readonly commandId: string;
  readonly actor: string;
  /** ISO-8601. */
  readonly now: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  /**
   * A digest of the request the client sent with its idempotency key. Recorded with the command's
   * first event; a later command with the same id and another fingerprint is refused
   * (KEEL_ERR_IDEMPOTENCY_KEY_REUSED) instead of being answered as a duplicate.
   */
  readonly fingerprint?: string;
  /**
   * With tracing on, the span the command's span is a child of: the GraphQL request's, or the
   * process manager's reaction's. Absent: the command starts a trace of its own.
   */
  readonly parentSpan?: Span;
}

export interface CommandResult<E, S> {
  readonly streamId: string;
  /** Revision of this command's last event (or the stream's revision when it emitted none). */
  readonly revision: bigint;
  /** Position of the append that carried this command: the consistency token. */
  readonly position: bigint;
  readonly events: readonly E[];
  readonly state: S;
  /** True when the command id had already been handled: nothing was written. */
  readonly duplicate: boolean;
}

/** What the handler remembers of a handled command, to answer a re-send with the original result. */
export interface HandledCommand {
  readonly firstRevision: bigint;
  readonly count: number;
  readonly position: bigint;
  /** The request's fingerprint, when the command recorded one. */
  readonly fingerprint?: string;
}

/** A stream folded to its current state, with the ids of the commands that wrote it. */
export interface StreamSnapshot<S> {
  readonly state: S;
  /** -1n when the stream does not exist. */
  readonly revision: bigint;
  readonly position: bigint;
  readonly commands: ReadonlyMap<string, HandledCommand>;
}
