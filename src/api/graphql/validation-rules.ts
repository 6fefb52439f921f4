/**
 * Validation rules added to GraphQL's own: a cost limit (graphql-query-complexity), no NUL or
 * invalid Unicode in string literals and, in production, no introspection; and the depth limit,
 * measured by mercurius' own `queryDepth`, as a rule (mercurius' `queryDepth` option cannot exempt
 * introspection).
 *
 * Cost: every field costs 1 plus its selection; a field with a `first` argument (a page) costs
 * 1 + first × its selection, so `products(first: 100) { edges { node { availability { sku } } } }`
 * costs far more than the same query with `first: 5`.
 *
 * The cost depends on the request's variables (`first: $n`), the other rules on the query text
 * only, so mercurius caches parsed and validated documents per query text with the static rules,
 * and the plugin checks the cost before mercurius (`costGate`, in a fastify preHandler): with every
 * rule, exactly as mercurius would, when a text is first seen, and alone, or
 * not at all when known, on every later request.
 */
import { createRequire } from 'node:module';
import type { DefinitionNode, DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode, ValidationRule } from 'graphql';
import { createComplexityRule } from 'graphql-query-complexity';
import { LRUCache } from 'lru-cache';
import type { ComplexityEstimator } from 'graphql-query-complexity';
import { graphql } from './graphql-runtime.js';
import { safeStringLiteralsRule } from './input-strings.js';

const pageEstimator: ComplexityEstimator = ({ args, childComplexity }) => {
  const first: unknown = args.first;
  return typeof first === 'number' && first > 0 ? 1 + first * childComplexity : 1 + childComplexity;
};

export interface ValidationRuleOptions {
  readonly maxCost: number;
  readonly maxDepth: number;
  readonly introspection: boolean;
}

type DepthErrors = (definitions: readonly DefinitionNode[], limit: number) => readonly Error[];
const loadQueryDepth = (): DepthErrors => {
  const measure: unknown = createRequire(createRequire(import.meta.url).resolve('mercurius'))('./lib/queryDepth');
  if (typeof measure !== 'function') throw new Error('mercurius/lib/queryDepth is not a function: the installed mercurius changed');
  return (definitions, limit) => {
    const errors: unknown = measure(definitions, limit);
    return Array.isArray(errors) ? errors.filter((e): e is Error => e instanceof Error) : [];
  };
};
const queryDepth = loadQueryDepth();

/** An operation that asks only for introspection (`__schema`, `__type`, `__typename`) at its top. */
const introspectionOnly = (operation: OperationDefinitionNode): boolean =>
  operation.selectionSet.selections.every((s) => s.kind === graphql.Kind.FIELD && s.name.value.startsWith('__'));

/**
 * QUERY_MAX_DEPTH, counted as mercurius counts it (its `queryDepth`, same messages), per operation.
 * Where introspection is allowed (development), an introspection-only operation is exempt:
 * GraphiQL's and code generators' introspection queries nest about 13 deep. In production
 * introspection is refused anyway.
 */
const depthRule =
  (options: ValidationRuleOptions): ValidationRule =>
  (context) => ({
    Document: (document) => {
      const fragments = document.definitions.filter((d) => d.kind === graphql.Kind.FRAGMENT_DEFINITION);
      for (const operation of document.definitions) {
        if (operation.kind !== graphql.Kind.OPERATION_DEFINITION || (options.introspection && introspectionOnly(operation))) continue;
        for (const error of queryDepth([operation, ...fragments], options.maxDepth)) {
          context.reportError(
            new graphql.GraphQLError(error.message.replace(/^`|`$/g, ''), {
              nodes: [operation],
              extensions: { code: 'KEEL_ERR_QUERY_TOO_DEEP', limit: options.maxDepth },
            }),
          );
        }
      }
      return false;
    },
  });

/**
 * The rules that depend on the query text only (mercurius caches their result): the depth limit,
 * no NUL or invalid Unicode in string literals (input-strings.ts), no introspection in production.
 */
export const staticValidationRules = (options: ValidationRuleOptions): ValidationRule[] => [
  depthRule(options),
  safeStringLiteralsRule,
  ...(options.introspection ? [] : [graphql.NoSchemaIntrospectionCustomRule]),
];

/**
 * How many selections the cost rule counts before it gives up (graphql-query-complexity's default,
 * or QUERY_MAX_COST when larger). It throws rather than reports then; `countable` turns that into
 * KEEL_ERR_QUERY_TOO_COSTLY: 20,000 aliases of one field are 20,000 selections.
 */
const maxQueryNodes = (options: ValidationRuleOptions): number => Math.max(10_000, options.maxCost);
const TOO_MANY_NODES = 'Query exceeds the maximum allowed number of nodes.';

/** A validation with the cost rule, a document too large to count refused as too costly. */
const countable = (options: ValidationRuleOptions, validate: () => readonly GraphQLError[]): readonly GraphQLError[] => {
  try {
    return validate();
  } catch (error) {
    // The library's ES-module build throws its own graphql's GraphQLError: matched by message.
    if (!(error instanceof Error) || error.message !== TOO_MANY_NODES) throw error;
    return [
      new graphql.GraphQLError(`The query has more than ${maxQueryNodes(options)} selections: its estimated cost exceeds the limit of ${options.maxCost} (QUERY_MAX_COST).`, {
        extensions: { code: 'KEEL_ERR_QUERY_TOO_COSTLY', limit: options.maxCost },
      }),
    ];
  }
};

export const costRule = (
  options: ValidationRuleOptions,
  { variables, operationName }: CostRequest,
): ValidationRule =>
  createComplexityRule({
    maximumComplexity: options.maxCost,
    maxQueryNodes: maxQueryNodes(options),
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

/**
 * Whether a document's cost can change with the variables: a variable in a `first` argument (the
 * page estimator reads it) or in a directive (`@include(if: $x)` decides what counts).
 */
const costReadsVariables = (document: DocumentNode): boolean => {
  let reads = false;
  graphql.visit(document, {
    Variable: (_node, _key, parent, _path, ancestors) => {
      // `ancestors` stops short of `parent`: `first: $n` has the Argument as the variable's parent.
      const lineage = [...ancestors, ...(parent === undefined ? [] : [parent])];
      const inFirst = lineage.some((a) => 'kind' in a && a.kind === graphql.Kind.ARGUMENT && a.name.value === 'first');
      const inDirective = lineage.some((a) => 'kind' in a && a.kind === graphql.Kind.DIRECTIVE);
      if (inFirst || inDirective) reads = true;
    },
  });
  return reads;
};

/** What the gate knows of a query text it has seen valid. */
interface KnownText {
  readonly document: DocumentNode;
  /** Whether its cost can change with the variables (then it is measured on every request). */
  readonly readsVariables: boolean;
  /** Its cost verdict per operation name, when fixed. */
  readonly byOperation: Map<string | undefined, readonly GraphQLError[]>;
  /** The `operation` check's verdict per operation name (null: none). */
  readonly selected: Map<string | undefined, GraphQLError | null>;
}

/** How many operation names' `operation` verdicts the gate keeps per text (beyond: checked each time). */
const MAX_NAMES_PER_TEXT = 64;

/** How many query texts the gate remembers (mercurius' own document cache holds as many). */
export const COST_GATE_TEXTS = 1_024;

/**
 * The operation a request selects (graphql's getOperationAST: undefined when the name matches none,
 * or when there are several operations and no name), checked by `operation` (costGate's option).
 */
export type OperationCheck = (operation: OperationDefinitionNode | undefined, operationName: string | undefined) => GraphQLError | undefined;

/**
 * mercurius takes a query text that is not GraphQL but is JSON as a parsed document (an AST), which
 * no rule of this gate would have measured (and `"1"` or `"null"` failed inside mercurius, HTTP 500):
 * such a text is refused, as the syntax error it is. Only for a text that failed to parse.
 */
const jsonDocumentError = (source: string, syntaxError: unknown): readonly GraphQLError[] => {
  try {
    JSON.parse(source);
  } catch {
    return []; // a plain syntax error: mercurius reports it
  }
  const why = syntaxError instanceof Error ? syntaxError.message : 'Syntax Error';
  return [new graphql.GraphQLError(`The query must be GraphQL text (${why}).`, { extensions: { code: 'KEEL_ERR_GRAPHQL_VALIDATION' } })];
};

/**
 * QUERY_MAX_COST at the edge, before mercurius (HTTP requests in a preHandler, subscriptions when
 * their message arrives, ws-edge.ts): the errors to refuse a request with, [] to let it through. A
 * query text not seen before is parsed and validated with every rule and the cost, as mercurius
 * would with the cost rule among its own; a valid one is remembered (LRU). A remembered text whose
 * cost cannot change with the variables (most) has its verdict kept per operation name; one whose
 * cost can is measured again with each request's variables. With `operation` (HTTP: an operation
 * name that selects nothing, a subscription), the selected operation is checked too, once per text
 * and name. A text that does not parse is refused by `syntax`: by default only one that is JSON
 * (`jsonDocumentError`), other syntax errors being left to mercurius. No mercurius hook is
 * involved: hooks make every request, cached or not, go through mercurius' asynchronous hook runners.
 */
export const costGate = (
  options: ValidationRuleOptions,
  maxTexts = COST_GATE_TEXTS,
  operation?: OperationCheck,
  /** What a text that does not parse is refused with; default: only a JSON text (`jsonDocumentError`). */
  syntax: (source: string, syntaxError: unknown) => readonly GraphQLError[] = jsonDocumentError,
) => {
  const known = new LRUCache<string, KnownText>({ max: maxTexts });
  const [specified, statics] = [graphql.specifiedRules, staticValidationRules(options)];
  const request = (operationName: string | undefined, variables: () => Record<string, unknown> | undefined): CostRequest => ({ operationName, variables: variables() });
  /** The `operation` check's errors for a text's selected operation, once per operation name. */
  const selectedError = (text: KnownText, operationName: string | undefined): readonly GraphQLError[] | undefined => {
    if (operation === undefined) return undefined;
    let verdict = text.selected.get(operationName);
    if (verdict === undefined) {
      verdict = operation(graphql.getOperationAST(text.document, operationName) ?? undefined, operationName) ?? null;
      // Names a client makes up must not grow the entry without bound.
      if (text.selected.size < MAX_NAMES_PER_TEXT) text.selected.set(operationName, verdict);
    }
    return verdict === null ? undefined : [verdict];
  };
  /**
   * `variables` is called only when the cost is measured (first sight, or a cost that reads them):
   * a known fixed-cost text costs one map lookup.
   */
  return (schema: GraphQLSchema, source: string, operationName: string | undefined, variables: () => Record<string, unknown> | undefined): readonly GraphQLError[] => {
    const text = known.get(source);
    if (text === undefined) {
      let document: DocumentNode;
      try {
        document = graphql.parse(source);
      } catch (syntaxError) {
        return syntax(source, syntaxError);
      }
      // Every rule and the cost, in the order mercurius ran them when it validated every request.
      const errors = countable(options, () => graphql.validate(schema, document, [...specified, costRule(options, request(operationName, variables)), ...statics]));
      if (errors.length > 0) return errors;
      const remembered: KnownText = { document, readsVariables: costReadsVariables(document), byOperation: new Map(), selected: new Map() };
      const verdict = selectedError(remembered, operationName) ?? errors;
      remembered.byOperation.set(operationName, verdict);
      known.set(source, remembered);
      return verdict;
    }
    const measure = (): readonly GraphQLError[] => countable(options, () => graphql.validate(schema, text.document, [costRule(options, request(operationName, variables))]));
    if (text.readsVariables) return selectedError(text, operationName) ?? measure();
    const verdict = text.byOperation.get(operationName);
    if (verdict !== undefined) return verdict;
    const errors = selectedError(text, operationName) ?? measure();
    text.byOperation.set(operationName, errors);
    return errors;
  };
};
