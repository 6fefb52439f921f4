import type { EventData } from '../../eventstore/port.js';
import { KeelError } from '../../platform/errors.js';
import type { Span } from '../../platform/tracing.js';
import { eventIdFor } from './event-ids.js';
import type { MutableSnapshot } from './stream-loader.js';
import type { Aggregate, CommandContext, CommandResult, DomainEventShape } from './types.js';

/** One caller waiting in a stream's queue. */
export interface Job {
  readonly aggregate: Aggregate<unknown, DomainEventShape, unknown>;
  readonly command: unknown;
  readonly context: CommandContext;
  /** The command's span and its W3C trace context, while tracing is on (platform/tracing.ts). */
  readonly span?: Span | undefined;
  readonly traceparent?: string | undefined;
  resolve(result: CommandResult<DomainEventShape, unknown>): void;
  reject(error: unknown): void;
}

export type Outcome =
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'duplicate'; readonly firstRevision: bigint; readonly count: number; readonly position: bigint }
  | { readonly kind: 'same-as'; readonly index: number }
  | { readonly kind: 'decided'; readonly events: readonly DomainEventShape[]; readonly offset: number };

export interface DecidedBatch {
  readonly outcomes: readonly Outcome[];
  readonly toAppend: readonly EventData[];
  readonly state: unknown;
}

const commandTypeOf = (command: unknown): string | undefined =>
  typeof command === 'object' && command !== null && 'type' in command && typeof command.type === 'string'
    ? command.type
    : undefined;

const commandDataOf = (command: unknown): unknown =>
  typeof command === 'object' && command !== null && 'data' in command ? command.data : undefined;

/**
 * The command rides with the first event it produced: its type on every event (`commandType`), its
 * data once (`commandData`, exactly what the decider was given, prices included), so `keel replay
 * --redecide` can run it again. One JSON field in a row that is written anyway: no extra write.
 */
export const toEventData = (job: Job, event: DomainEventShape, index: number): EventData => {
  const { context } = job;
  const commandType = commandTypeOf(job.command);
  const commandData = index === 0 ? commandDataOf(job.command) : undefined;
  return {
    id: eventIdFor(context.commandId, index),
    type: event.type,
    data: event.data,
    schemaVersion: job.aggregate.schemaVersion(event.type),
    metadata: {
      commandId: context.commandId,
      correlationId: context.correlationId ?? context.commandId,
      causationId: context.causationId ?? context.commandId,
      actor: context.actor,
      timestamp: context.now,
      ...(commandType === undefined ? {} : { commandType }),
      ...(commandData === undefined ? {} : { commandData }),
      ...(index === 0 && context.fingerprint !== undefined ? { commandFingerprint: context.fingerprint } : {}),
      ...(job.traceparent === undefined ? {} : { traceparent: job.traceparent }),
    },
  };
};

/** The error a command id reused for another request gets: it names nothing internal. */
export const idempotencyKeyReused = (): KeelError =>
  new KeelError('KEEL_ERR_IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used for a different request; send a new key.');

/** An error outcome when both requests carry fingerprints and they differ (the key was reused). */
const reused = (context: CommandContext, recorded: string | undefined): Outcome | undefined =>
  context.fingerprint !== undefined && recorded !== undefined && context.fingerprint !== recorded
    ? { kind: 'error', error: idempotencyKeyReused() }
    : undefined;

/**
 * Decides the queued commands in order against one state: each sees the events of the ones before.
 * A command already handled (its id is in the stream) is answered with its original result; the
 * same id twice in one batch gets the first one's result. A refusal fails only its own caller.
 */
export const decideBatch = (jobs: readonly Job[], snapshot: MutableSnapshot<unknown>): DecidedBatch => {
  let state = snapshot.state;
  const outcomes: Outcome[] = [];
  const toAppend: EventData[] = [];
  const inBatch = new Map<string, number>();
  for (const [index, job] of jobs.entries()) {
    const { commandId } = job.context;
    const handled = snapshot.commands.get(commandId);
    const earlier = inBatch.get(commandId);
    if (handled) {
      outcomes.push(reused(job.context, handled.fingerprint) ?? { kind: 'duplicate', ...handled });
      continue;
    }
    if (earlier !== undefined) {
      outcomes.push(reused(job.context, jobs[earlier]?.context.fingerprint) ?? { kind: 'same-as', index: earlier });
      continue;
    }
    inBatch.set(commandId, index);
    try {
      const { decider } = job.aggregate;
      const events = decider.decide(job.command, state);
      for (const event of events) state = decider.evolve(state, event);
      outcomes.push({ kind: 'decided', events, offset: toAppend.length });
      events.forEach((event, i) => toAppend.push(toEventData(job, event, i)));
    } catch (error) {
      outcomes.push({ kind: 'error', error });
    }
  }
  return { outcomes, toAppend, state };
};

/** After a successful append: the snapshot moves on and remembers the commands it now holds. */
export const advanceSnapshot = (
  snapshot: MutableSnapshot<unknown>,
  jobs: readonly Job[],
  batch: DecidedBatch,
  appended: { nextExpectedRevision: bigint; position: bigint },
): bigint => {
  const base = snapshot.revision;
  for (const [index, outcome] of batch.outcomes.entries()) {
    const job = jobs[index];
    if (!job || outcome.kind !== 'decided' || outcome.events.length === 0) continue;
    const { fingerprint } = job.context;
    snapshot.commands.set(job.context.commandId, {
      firstRevision: base + 1n + BigInt(outcome.offset),
      count: outcome.events.length,
      position: appended.position,
      ...(fingerprint === undefined ? {} : { fingerprint }),
    });
  }
  snapshot.state = batch.state;
  snapshot.revision = appended.nextExpectedRevision;
  snapshot.position = appended.position;
  return base;
};
