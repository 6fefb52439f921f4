/**
 * Given / when / then for deciders: given past events, when a command, then the new events or
 * the refusal's error code. Modelled on Emmett's DeciderSpecification.
 *
 *   spec(orderDecider).given([placed]).when(confirm).then([confirmed]);
 *   spec(orderDecider).given([]).when(confirm).thenThrows('KEEL_ERR_ORDER_NOT_FOUND');
 */
import { expect } from 'vitest';
import type { Decider } from '../../src/commands/decider.js';
import { fold } from '../../src/commands/decider.js';
import type { ErrorCode } from '../../src/platform/errors.js';
import { DomainError } from '../../src/platform/errors.js';

export const spec = <Command, Event, State>(decider: Decider<Command, Event, State>) => ({
  given: (events: readonly Event[]) => ({
    when: (command: Command) => {
      const run = () => decider.decide(command, fold(decider, events));
      return {
        /** The command is accepted and records exactly these events (`[]`: nothing to record). */
        then: (expected: readonly Event[]): void => {
          expect(run()).toEqual(expected);
        },
        /** The command is refused with a DomainError carrying this code (and these details, if given). */
        thenThrows: (code: ErrorCode, details?: Record<string, unknown>): void => {
          let caught: unknown;
          try {
            run();
          } catch (error) {
            caught = error;
          }
          expect(caught, `expected ${code}, but the command was accepted`).toBeInstanceOf(DomainError);
          if (!(caught instanceof DomainError)) return;
          expect(caught.code).toBe(code);
          if (details) expect(caught.details).toMatchObject(details);
        },
      };
    },
  }),
});
