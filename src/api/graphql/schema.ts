/** The whole SDL and its resolvers: reads (queries, subscriptions) and writes (mutations). */
import type { IResolvers, MercuriusLoaders } from 'mercurius';
import type { ReadSide } from '../read-side.js';
import type { ApiWriteSide } from '../write-side.js';
import { mutationResolvers } from './mutations.js';
import { queryLoaders, queryResolvers } from './queries.js';
import { createReadAccess } from './read-access.js';
import { LongScalar } from './scalars.js';
import { readSchema } from './schema-read.js';
import { writeSchema } from './schema-write.js';
import { subscriptionResolvers } from './subscriptions.js';

export const typeDefs = `${readSchema}\n${writeSchema}`;

export interface SchemaDeps {
  readonly write: ApiWriteSide;
  /** Absent until the read side is wired: queries answer KEEL_ERR_READ_SIDE_UNAVAILABLE. */
  readonly readSide?: ReadSide | undefined;
  readonly consistencyWaitMs: number;
  readonly production: boolean;
}

export const buildResolvers = (deps: SchemaDeps): { resolvers: IResolvers; loaders: MercuriusLoaders } => {
  const reads = createReadAccess(deps.readSide, deps.consistencyWaitMs);
  return {
    resolvers: {
      Long: LongScalar,
      ...queryResolvers(reads),
      ...subscriptionResolvers(reads, deps.production),
      ...mutationResolvers(deps.write),
    },
    loaders: queryLoaders(reads),
  };
};
