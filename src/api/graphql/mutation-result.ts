/**
 * The shared half of every mutation: who may call it, the request context handed to the command
 * (actor, `now`, the idempotency key scoped to the caller and the mutation), and the
 * `MutationResult` fields of the payload. Command validation errors are renamed from the command's
 * `data.<field>` to the mutation's `input.<field>`, so the client learns which input field is wrong.
 */
import { createHash } from 'node:crypto';
import stableStringify from 'safe-stable-stringify';
import type { RequestContext } from '../../commands/front-door.js';
import { ValidationError } from '../../platform/errors.js';
import { actorOf } from '../auth.js';
import type { User } from '../auth.js';
import { encodeConsistencyToken } from '../consistency-token.js';
import type { RequestScope } from './context.js';

export interface CommandOutcome {
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly events: readonly { readonly type: string }[];
  readonly duplicate: boolean;
}

export interface MutationResultFields {
  readonly streamId: string;
  readonly revision: string;
  readonly position: string;
  readonly consistencyToken: string;
  readonly duplicate: boolean;
  readonly eventTypes: readonly string[];
}

const KEY_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/** The command id: `<mutation>:<subject>:<key>`, so two clients' keys never collide. */
export const commandIdOf = (mutation: string, user: User, key: string | null | undefined): string | undefined => {
  if (key === null || key === undefined) return undefined;
  if (!KEY_PATTERN.test(key)) {
    throw new ValidationError('input.idempotencyKey', 'must be 1 to 64 letters, digits, ".", "_", ":" or "-"');
  }
  return `api:${mutation}:${user.subject}:${key}`;
};

/**
 * The request's fingerprint: a digest of the mutation's input (keys sorted, the key itself left
 * out). Stored with the command's first event, it tells a true retry from a key reused for another
 * request (KEEL_ERR_IDEMPOTENCY_KEY_REUSED), the way payment APIs answer that.
 */
export const fingerprintOf = (mutation: string, input: Readonly<Record<string, unknown>>): string =>
  createHash('sha256').update(`${mutation}\n${stableStringify(commandInput(input)) ?? ''}`).digest('base64url').slice(0, 22);

/**
 * The request context of a mutation. With the client's `idempotencyKey`, the command id and the
 * request's fingerprint; `derivedKey` (used when the client sent none) gives a command id without a
 * fingerprint: a key the server made up says nothing about which request the client meant.
 */
export const requestContextOf = (
  scope: RequestScope,
  mutation: string,
  user: User,
  input: Readonly<Record<string, unknown>> & { readonly idempotencyKey?: unknown },
  derivedKey?: string,
): RequestContext => {
  const clientKey = typeof input.idempotencyKey === 'string' ? input.idempotencyKey : undefined;
  const commandId = commandIdOf(mutation, user, clientKey ?? derivedKey);
  const fingerprint = clientKey === undefined ? {} : { fingerprint: fingerprintOf(mutation, input) };
  return {
    actor: actorOf(user),
    now: scope.now,
    correlationId: scope.requestId,
    ...(commandId === undefined ? {} : { commandId, ...fingerprint }),
    ...(scope.span ? { parentSpan: scope.span } : {}),
  };
};

export const resultFields = (outcome: CommandOutcome): MutationResultFields => ({
  streamId: outcome.streamId,
  revision: outcome.revision.toString(),
  position: outcome.position.toString(),
  consistencyToken: encodeConsistencyToken(outcome.position),
  duplicate: outcome.duplicate,
  eventTypes: outcome.events.map((event) => event.type),
});

/** Input without the API-only fields and without explicit nulls (GraphQL's "not given"). */
export const commandInput = (input: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(input).filter(([key, value]) => key !== 'idempotencyKey' && value !== null));

/** Runs `command`, renaming a validation error's `data.x` / `(input)` / `commandId` to the input field. */
export const asMutation = async <T>(command: () => Promise<T>): Promise<T> => {
  try {
    return await command();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const field = error.field === 'commandId'
      ? 'input.idempotencyKey'
      : error.field.startsWith('data.')
        ? `input.${error.field.slice('data.'.length)}`
        : 'input';
    const reason = error.message.startsWith(`${error.field}: `) ? error.message.slice(error.field.length + 2) : error.message;
    throw new ValidationError(field, reason, error.code);
  }
};
