/**
 * The shape shared by every aggregate of the write side: a plain object of pure functions.
 * `decide` returns the new facts, bare (`{ type, data }`); the command handler adds metadata,
 * derives event ids and appends. A refused command throws a `DomainError` and emits nothing.
 */
import type { z } from 'zod';
import { ValidationError } from '../platform/errors.js';

export interface Decider<Command, Event, State> {
  readonly initialState: () => State;
  /** Must not mutate `state`: return a new value. */
  readonly evolve: (state: State, event: Event) => State;
  /** Throws a `DomainError` when the command is refused. */
  readonly decide: (command: Command, state: State) => readonly Event[];
}

/** The state after `events`, starting from the decider's initial state. */
export const fold = <Command, Event, State>(
  decider: Decider<Command, Event, State>,
  events: Iterable<Event>,
  state: State = decider.initialState(),
): State => {
  let current = state;
  for (const event of events) current = decider.evolve(current, event);
  return current;
};

/** For the `default` branch of a `switch` over a union: adding a case without handling it fails to compile. */
export const unreachable = (value: never): never => {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
};

/**
 * Validates untrusted input against a command schema. The first issue becomes a
 * `ValidationError` (KEEL_ERR_VALIDATION) whose `field` is the dotted path, e.g. `data.lines.2.quantity`.
 */
export const parseCommand = <Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> => {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(command)';
  throw new ValidationError(field, issue?.message ?? 'invalid input');
};
