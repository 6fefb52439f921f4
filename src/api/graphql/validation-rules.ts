/**
 * Validation rules added to GraphQL's own: a cost limit (graphql-query-complexity) and, in
 * production, no introspection. The depth limit is mercurius' `queryDepth`.
 *
 * Cost: every field costs 1 plus its selection; a field with a `first` argument (a page) costs
 * 1 + first × its selection, so `products(first: 100) { edges { node { availability { sku } } } }`
 * costs far more than the same query with `first: 5`.
 */
import type { ValidationRule } from 'graphql';
import { createComplexityRule } from 'graphql-query-complexity';
import type { ComplexityEstimator } from 'graphql-query-complexity';
import { graphql } from './graphql-runtime.js';

const pageEstimator: ComplexityEstimator = ({ args, childComplexity }) => {
  const first: unknown = args.first;
  return typeof first === 'number' && first > 0 ? 1 + first * childComplexity : 1 + childComplexity;
};

export interface ValidationRuleOptions {
  readonly maxCost: number;
  readonly introspection: boolean;
}

export const validationRules =
  (options: ValidationRuleOptions) =>
  ({ variables, operationName }: { variables?: Record<string, unknown> | undefined; operationName?: string | undefined }): ValidationRule[] => [
    createComplexityRule({
      maximumComplexity: options.maxCost,
      estimators: [pageEstimator],
      ...(variables === undefined ? {} : { variables }),
      ...(operationName === undefined ? {} : { operationName }),
      createError: (max, actual) =>
        new graphql.GraphQLError(`The query's estimated cost ${actual} exceeds the limit of ${max} (QUERY_MAX_COST).`, {
          extensions: { code: 'KEEL_ERR_QUERY_TOO_COSTLY', cost: actual, limit: max },
        }),
    }),
    ...(options.introspection ? [] : [graphql.NoSchemaIntrospectionCustomRule]),
  ];
