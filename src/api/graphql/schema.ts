/**
 * The whole SDL and its resolvers: reads (queries, subscriptions), writes (mutations, commands) and
 * the admin operations on the API itself (`revokeTokens`), which extend the Mutation type.
 */
import type { IResolvers, MercuriusLoaders } from 'mercurius';
import type { ReadSide } from '../read-side.js';
import type { ApiWriteSide } from '../write-side.js';
import { adminMutationResolvers } from './admin-mutations.js';
import { mutationResolvers } from './mutations.js';
import { queryLoaders, queryResolvers } from './queries.js';
import { createReadAccess } from './read-access.js';
import { LongScalar } from './scalars.js';
import { adminSchema } from './schema-admin.js';
import { readSchema } from './schema-read.js';
import { writeSchema } from './schema-write.js';
import { subscriptionResolvers } from './subscriptions.js';

export const typeDefs = `${readSchema}\n${writeSchema}\n${adminSchema}`;

export interface SchemaDeps {
  readonly write: ApiWriteSide;
  /** Absent until the read side is wired: queries answer KEEL_ERR_READ_SIDE_UNAVAILABLE. */
  readonly readSide?: ReadSide | undefined;
  readonly consistencyWaitMs: number;
  readonly production: boolean;
}

export const buildResolvers = (deps: SchemaDeps): { resolvers: IResolvers; loaders: MercuriusLoaders } => {
  const reads = createReadAccess(deps.readSide, deps.consistencyWaitMs);
  const writes = mutationResolvers(deps.write);
  const admin = adminMutationResolvers();
  return {
    resolvers: {
      Long: LongScalar,
      ...queryResolvers(reads),
      ...subscriptionResolvers(reads, deps.production),
      ...writes,
      // Both halves have a Mutation map: merged field by field, not one replacing the other.
      Mutation: Object.assign({}, writes.Mutation, admin.Mutation),
    },
    loaders: queryLoaders(reads),
  };
};
