/**
 * Who is calling. Each request's `Authorization: Bearer <token>` is verified once (HS256,
 * JWT_SECRET) into an `Auth`; resolvers then demand what they need with `requireUser`/`requireRole`.
 * A request that sends a token which fails verification is refused as a whole (UNAUTHENTICATED);
 * a request without a token is anonymous, which public queries accept.
 */
import type { FastifyInstance } from 'fastify';
import { KeelError } from '../platform/errors.js';
import { claimsSchema } from './tokens.js';
import type { Role } from './tokens.js';

export interface User {
  readonly subject: string;
  readonly roles: ReadonlySet<Role>;
}

export type Auth =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | ({ readonly kind: 'user' } & User);

const ANONYMOUS: Auth = { kind: 'anonymous' };

/** Verifies an Authorization header value (`Bearer <jwt>`); never throws. */
export const authenticate = (app: FastifyInstance, header: unknown): Auth => {
  if (header === undefined || header === null || header === '') return ANONYMOUS;
  if (typeof header !== 'string') return { kind: 'invalid', reason: 'the Authorization header must be "Bearer <token>"' };
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim());
  const token = match?.[1];
  if (token === undefined) return { kind: 'invalid', reason: 'the Authorization header must be "Bearer <token>"' };
  let payload: unknown;
  try {
    payload = app.jwt.verify(token);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { kind: 'invalid', reason: `the token was rejected: ${detail}` };
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) {
    const issue = claims.error.issues[0];
    const where = issue === undefined ? '' : ` (${issue.path.join('.') || 'claims'}: ${issue.message})`;
    return { kind: 'invalid', reason: `the token's claims are not valid${where}` };
  }
  return { kind: 'user', subject: claims.data.sub, roles: new Set(claims.data.roles) };
};

export const unauthenticated = (reason = 'this operation requires a bearer token'): KeelError =>
  new KeelError('UNAUTHENTICATED', `Unauthenticated: ${reason}.`);

export const requireUser = (auth: Auth): User => {
  if (auth.kind === 'user') return auth;
  throw unauthenticated(auth.kind === 'invalid' ? auth.reason : undefined);
};

/** The user, if one of `roles` is theirs; UNAUTHENTICATED without a token, FORBIDDEN otherwise. */
export const requireRole = (auth: Auth, operation: string, ...roles: readonly Role[]): User => {
  const user = requireUser(auth);
  if (roles.some((role) => user.roles.has(role))) return user;
  throw new KeelError('FORBIDDEN', `Forbidden: ${operation} requires the role ${roles.join(' or ')}.`, {
    operation,
    required: [...roles],
  });
};

export const forbidden = (operation: string, why: string): KeelError =>
  new KeelError('FORBIDDEN', `Forbidden: ${operation}: ${why}.`, { operation });

/** The actor recorded in event metadata: `<first role>:<subject>`. */
export const actorOf = (user: User): string => `${[...user.roles][0] ?? 'user'}:${user.subject}`;
