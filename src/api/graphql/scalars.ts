/** `Long`: a whole number up to 2^53 - 1 as a JSON number (GraphQL's Int stops at 2^31 - 1). */
import { graphql } from './graphql-runtime.js';

const { GraphQLError, GraphQLScalarType, Kind } = graphql;

const check = (value: unknown): number => {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw new GraphQLError(`Long cannot represent ${JSON.stringify(value)}: a whole number up to 2^53 - 1 is expected`);
};

export const LongScalar = new GraphQLScalarType<number, number>({
  name: 'Long',
  description: 'A whole number up to 2^53 - 1, sent as a JSON number.',
  serialize: check,
  parseValue: check,
  parseLiteral: (node) => {
    if (node.kind !== Kind.INT) throw new GraphQLError('Long must be an integer literal', { nodes: node });
    return check(Number(node.value));
  },
});
