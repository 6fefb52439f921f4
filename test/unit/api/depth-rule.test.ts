/**
 * QUERY_MAX_DEPTH as a validation rule (src/api/graphql/validation-rules.ts): counted as mercurius
 * counts it, for queries and subscriptions alike, with introspection-only operations exempt where
 * introspection is allowed (development), so GraphiQL and code generators can read the schema.
 */
import type { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { graphql } from '../../../src/api/graphql/graphql-runtime.js';
import { typeDefs } from '../../../src/api/graphql/schema.js';
import { staticValidationRules } from '../../../src/api/graphql/validation-rules.js';

const schema = graphql.buildSchema(typeDefs);
const check = (source: string, options: { maxDepth: number; introspection: boolean }) =>
  graphql.validate(schema, graphql.parse(source), staticValidationRules({ maxCost: 1_000_000, ...options }));
const codesOf = (errors: readonly GraphQLError[]): unknown[] => errors.map((e) => e.extensions.code);

describe('the depth rule', () => {
  it('refuses a query or a subscription nested deeper than the limit, naming the operation and the limit', () => {
    const deep = check('query Deep { myOrders { edges { node { lines { product { name } } } } } }', { maxDepth: 4, introspection: true });
    expect(codesOf(deep)).toEqual(['KEEL_ERR_QUERY_TOO_DEEP']);
    expect(deep[0]?.message).toBe('Deep query depth (6) exceeds the query depth limit of 4');
    expect(deep[0]?.extensions).toMatchObject({ limit: 4 });
    expect(check('{ myOrders { edges { node { id } } } }', { maxDepth: 4, introspection: true })).toEqual([]);
    const subscription = check('subscription { orderStatusChanged(orderId: "o-1") { lines { product { name } } } }', { maxDepth: 3, introspection: true });
    expect(codesOf(subscription)).toEqual(['KEEL_ERR_QUERY_TOO_DEEP']);
  });

  it('counts a fragment spread as its selections, as mercurius does', () => {
    const source = 'query { myOrders { edges { node { ...Lines } } } } fragment Lines on Order { lines { product { name } } }';
    expect(codesOf(check(source, { maxDepth: 5, introspection: true }))).toEqual(['KEEL_ERR_QUERY_TOO_DEEP']);
    expect(check(source, { maxDepth: 6, introspection: true })).toEqual([]);
  });

  it('lets the full introspection query through where introspection is allowed, and nothing else past the limit', () => {
    const introspection = graphql.getIntrospectionQuery();
    expect(check(introspection, { maxDepth: 8, introspection: true })).toEqual([]);
    // A real field beside __schema: the operation is not introspection-only, the limit applies.
    const mixed = '{ __schema { types { name } } myOrders { edges { node { lines { product { name } } } } } }';
    expect(codesOf(check(mixed, { maxDepth: 4, introspection: true }))).toEqual(['KEEL_ERR_QUERY_TOO_DEEP']);
    // In production introspection is refused, and its depth counts like any other.
    const refused = check(introspection, { maxDepth: 8, introspection: false });
    expect(codesOf(refused)).toContain('KEEL_ERR_QUERY_TOO_DEEP');
    expect(refused.some((e) => e.message.includes('introspection'))).toBe(true);
  });
});
