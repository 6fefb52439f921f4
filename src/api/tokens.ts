/**
 * Bearer tokens: HS256 JWTs with `sub` (an id: letters, digits, "-", "_"), `roles` and `exp`.
 * The server verifies them with @fastify/jwt; `signToken` mints them (for `keel token`, tests and
 * operators) with node:crypto, so minting needs no server. The claim rules live here, once.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { idSchema } from '../events/index.js';

export const ROLES = ['customer', 'admin', 'payment-provider'] as const;
export type Role = (typeof ROLES)[number];

export const claimsSchema = z.object({
  sub: idSchema,
  roles: z.array(z.enum(ROLES)).min(1),
  exp: z.number().int().positive(),
  iat: z.number().int().nonnegative().optional(),
});

export type TokenClaims = z.infer<typeof claimsSchema>;

export interface SignTokenOptions {
  readonly subject: string;
  readonly roles: readonly Role[];
  readonly secret: string;
  /** Lifetime in seconds. */
  readonly expiresInSeconds: number;
  /** Defaults to the current time. */
  readonly now?: Date;
}

const base64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

export const signToken = (options: SignTokenOptions): string => {
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims = claimsSchema.parse({
    sub: options.subject,
    roles: [...options.roles],
    iat,
    exp: iat + options.expiresInSeconds,
  });
  const unsigned = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
  const signature = createHmac('sha256', options.secret).update(unsigned).digest('base64url');
  return `${unsigned}.${signature}`;
};
