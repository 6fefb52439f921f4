/**
 * Validation rules added to GraphQL's own: a cost limit (graphql-query-complexity) and, in
 * production, no introspection. The depth limit is mercurius' `queryDepth`.
 *
 * Cost: every field costs 1 plus its selection; a field with a `first` argument (a page) costs
 * 1 + first × its selection, so `products(first: 100) { edges { node { availability { sku } } } }`
 * costs far more than the same query with `first: 5`.
 *
 * The cost depends on the request's variables (`first: $n`), the other rules on the query text
 * only, so mercurius caches parsed and validated documents per query text with the static rules,
 * and the plugin runs the cost rule in its hooks: with every rule, exactly as mercurius would,
 * when a text is first seen (`validateWithCost`), and alone on every later request (`costChecker`).
 */
import type { DocumentNode, GraphQLError, GraphQLSchema, ValidationRule } from 'graphql';
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

/** The rules that depend on the query text only (mercurius caches their result). */
export const staticValidationRules = (options: ValidationRuleOptions): ValidationRule[] =>
  options.introspection ? [] : [graphql.NoSchemaIntrospectionCustomRule];

export const costRule = (
  options: ValidationRuleOptions,
  { variables, operationName }: CostRequest,
): ValidationRule =>
  createComplexityRule({
    maximumComplexity: options.maxCost,
    estimators: [pageEstimator],
    ...(variables === undefined ? {} : { variables }),
    ...(operationName === undefined ? {} : { operationName }),
    createError: (max, actual) =>
      new graphql.GraphQLError(`The query's estimated cost ${actual} exceeds the limit of ${max} (QUERY_MAX_COST).`, {
        extensions: { code: 'KEEL_ERR_QUERY_TOO_COSTLY', cost: actual, limit: max },
      }),
  });

export interface CostRequest {
  readonly variables?: Record<string, unknown> | undefined;
  readonly operationName?: string | undefined;
}

/** GraphQL's rules, the cost rule and the static rules, in the order mercurius ran them when it validated every request. */
export const validateWithCost = (options: ValidationRuleOptions, schema: GraphQLSchema, document: DocumentNode, request: CostRequest): readonly GraphQLError[] =>
  graphql.validate(schema, document, [...graphql.specifiedRules, costRule(options, request), ...staticValidationRules(options)]);

/**
 * Whether a document's cost can change with the variables: a variable in a `first` argument (the
 * page estimator reads it) or in a directive (`@include(if: $x)` decides what counts).
 */
const costReadsVariables = (document: DocumentNode): boolean => {
  let reads = false;
  graphql.visit(document, {
    Variable: (_node, _key, _parent, _path, ancestors) => {
      const inFirst = ancestors.some((a) => 'kind' in a && a.kind === graphql.Kind.ARGUMENT && a.name.value === 'first');
      const inDirective = ancestors.some((a) => 'kind' in a && a.kind === graphql.Kind.DIRECTIVE);
      if (inFirst || inDirective) reads = true;
    },
  });
  return reads;
};

/**
 * The cost rule alone over an already validated document whose variables mercurius has coerced:
 * [] when within QUERY_MAX_COST. A document whose cost cannot change with the variables (most) is
 * measured once per operation name and remembered as long as the document lives (mercurius' cache).
 */
export const costChecker = (options: ValidationRuleOptions) => {
  const fixed = new WeakMap<DocumentNode, Map<string | undefined, readonly GraphQLError[]>>();
  const variable = new WeakSet<DocumentNode>();
  return (schema: GraphQLSchema, document: DocumentNode, request: CostRequest): readonly GraphQLError[] => {
    const measure = (): readonly GraphQLError[] => graphql.validate(schema, document, [costRule(options, request)]);
    if (variable.has(document)) return measure();
    let byOperation = fixed.get(document);
    if (byOperation === undefined) {
      if (costReadsVariables(document)) {
        variable.add(document);
        return measure();
      }
      byOperation = new Map();
      fixed.set(document, byOperation);
    }
    const known = byOperation.get(request.operationName);
    if (known !== undefined) return known;
    const errors = measure();
    byOperation.set(request.operationName, errors);
    return errors;
  };
};
