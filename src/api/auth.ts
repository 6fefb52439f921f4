/**
 * Who is calling. Each request's `Authorization: Bearer <token>` is verified once (HS256,
 * JWT_SECRET) into an `Auth`; resolvers then demand what they need with `requireUser`/`requireRole`.
 * Beyond signature, expiry and claims, a token is refused when its lifetime exceeds
 * TOKEN_MAX_LIFETIME_SECONDS, when it was issued in the future, or when its subject's tokens were
 * revoked after it was issued (`TokenPolicy`, set on the fastify instance by app.ts).
 * A request that sends a token which fails verification is refused as a whole (UNAUTHENTICATED);
 * a request without a token is anonymous, which public queries accept.
 */
import type { FastifyInstance } from 'fastify';
import { VARIABLES } from '../platform/config.js';
import { KeelError } from '../platform/errors.js';
import { createMemoryTokenRevocations } from './token-revocations.js';
import type { TokenRevocations } from './token-revocations.js';
import { claimsSchema } from './tokens.js';
import type { Role } from './tokens.js';

/** How far ahead of this server's clock a token's `iat` may be (the issuer's clock may run a little fast). */
export const IAT_CLOCK_SKEW_SECONDS = 60;

/** What `authenticate` checks beyond the signature and the claims' shape. */
export interface TokenPolicy {
  /** TOKEN_MAX_LIFETIME_SECONDS: longest `exp - iat` (without `iat`: `exp - now`). */
  readonly maxLifetimeSeconds: number;
  /** Revoked subjects (a Map lookup per request); the `revokeTokens` mutation writes through it. */
  readonly revocations: TokenRevocations;
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Decorated on the root instance by `buildApp` (app.ts), so every plugin's instance inherits it
     * and `authenticate(app, header)` keeps its two-argument form wherever it is called.
     */
    keelTokenPolicy?: TokenPolicy;
  }
}

/** For an instance nobody decorated: the configuration's default lifetime, no revocations. */
const DEFAULT_POLICY: TokenPolicy = {
  maxLifetimeSeconds: Number(VARIABLES.TOKEN_MAX_LIFETIME_SECONDS.default),
  revocations: createMemoryTokenRevocations(),
};

export interface User {
  readonly subject: string;
  readonly roles: ReadonlySet<Role>;
  /** The token's `exp`, in seconds since the epoch. */
  readonly expiresAt: number;
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
  const { sub, roles, exp, iat } = claims.data;
  const policy = app.keelTokenPolicy ?? DEFAULT_POLICY;
  const now = Math.floor(Date.now() / 1000);
  if (iat !== undefined && iat > now + IAT_CLOCK_SKEW_SECONDS) {
    return { kind: 'invalid', reason: `the token was issued in the future (its iat is ${iat - now} s ahead of this server's clock)` };
  }
  const lifetime = exp - (iat ?? now);
  if (lifetime > policy.maxLifetimeSeconds) {
    const counted = iat === undefined ? 'exp - now, the token has no iat' : 'exp - iat';
    return { kind: 'invalid', reason: `the token's lifetime (${lifetime} s, ${counted}) exceeds TOKEN_MAX_LIFETIME_SECONDS (${policy.maxLifetimeSeconds} s)` };
  }
  const revokedBefore = policy.revocations.revokedBefore(sub);
  if (revokedBefore !== undefined && (iat === undefined || iat <= revokedBefore)) return { kind: 'invalid', reason: 'the token was revoked' };
  return { kind: 'user', subject: sub, roles: new Set(roles), expiresAt: exp };
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
