/**
 * Admin mutations on the API itself (not commands: nothing is appended to the event store).
 * `revokeTokens` writes the subject's revocation through the app's token policy (auth.ts), which
 * app.ts decorates on the fastify instance: the resolver reaches it through mercurius' `ctx.app`.
 */
import type { IResolvers, MercuriusContext } from 'mercurius';
import { idSchema } from '../../events/index.js';
import { KeelError, ValidationError } from '../../platform/errors.js';
import { requireRole } from '../auth.js';

interface RevokeTokensArgs {
  readonly input: { readonly subject: string };
}

export const adminMutationResolvers = (): IResolvers => ({
  Mutation: {
    revokeTokens: async (_root: unknown, { input }: RevokeTokensArgs, ctx: MercuriusContext) => {
      const admin = requireRole(ctx.keel.auth, 'revokeTokens', 'admin');
      const subject = idSchema.safeParse(input.subject);
      if (!subject.success) throw new ValidationError('input.subject', subject.error.issues[0]?.message ?? 'must be an id');
      const policy = ctx.app.keelTokenPolicy;
      if (policy === undefined) throw new KeelError('KEEL_ERR_INTERNAL', 'revokeTokens: this app has no token policy (built without app.ts?).');
      const revokedBefore = await policy.revocations.revoke(subject.data);
      ctx.reply.log.info({ subject: subject.data, revokedBefore: revokedBefore.toISOString(), by: admin.subject }, 'bearer tokens revoked');
      return { subject: subject.data, revokedBefore: revokedBefore.toISOString() };
    },
  },
});
