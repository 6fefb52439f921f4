/**
 * QUERY_MAX_COST at the HTTP edge (src/api/graphql/validation-rules.ts): a query text is checked on
 * every request, whether the gate has seen it before or not, with that request's variables and
 * operation name; remembering a text must never let a costlier request through.
 */
import { describe, expect, it } from 'vitest';
import { graphql } from '../../../src/api/graphql/graphql-runtime.js';
import { typeDefs } from '../../../src/api/graphql/schema.js';
import { costGate } from '../../../src/api/graphql/validation-rules.js';

const schema = graphql.buildSchema(typeDefs);
const rules = { maxCost: 100, maxDepth: 8, introspection: true };
const codesOf = (errors: readonly { readonly extensions: Record<string, unknown> }[]): unknown[] => errors.map((e) => e.extensions.code);
/** The gate as the plugin calls it, with the request's operation name and (lazily) its variables. */
const checker = (maxTexts?: number) => {
  const gate = costGate(rules, maxTexts);
  return (source: string, request: { readonly operationName?: string; readonly variables?: Record<string, unknown> }) =>
    gate(schema, source, request.operationName, () => request.variables);
};
const PAGE = 'query ($n: Int) { products(first: $n) { edges { node { id name availability { available } } } } }';

describe('costGate', () => {
  it('measures a text whose cost reads its variables on every request, cheap first or costly first', () => {
    const gate = checker();
    expect(gate(PAGE, { variables: { n: 2 } })).toEqual([]);
    expect(codesOf(gate(PAGE, { variables: { n: 100 } }))).toEqual(['KEEL_ERR_QUERY_TOO_COSTLY']);
    expect(gate(PAGE, { variables: { n: 3 } })).toEqual([]);
    expect(codesOf(gate(PAGE, { variables: { n: 50 } }))).toEqual(['KEEL_ERR_QUERY_TOO_COSTLY']);
  });

  it('refuses a fixed-cost text over the limit every time, and a directive on a variable counts as reading it', () => {
    const gate = checker();
    const fixed = '{ products(first: 100) { edges { node { id name availability { available } } } } }';
    for (let i = 0; i < 3; i++) expect(codesOf(gate(fixed, {}))).toEqual(['KEEL_ERR_QUERY_TOO_COSTLY']);
    const skipped = 'query ($big: Boolean!) { products(first: 100) @include(if: $big) { edges { node { id name availability { available } } } } }';
    expect(gate(skipped, { variables: { big: false } })).toEqual([]);
    expect(codesOf(gate(skipped, { variables: { big: true } }))).toEqual(['KEEL_ERR_QUERY_TOO_COSTLY']);
  });

  it('keeps a verdict per operation name of a text with several operations', () => {
    const gate = checker();
    const two = 'query Cheap { products(first: 2) { edges { node { id } } } } query Costly { products(first: 100) { edges { node { id name availability { available } } } } }';
    expect(gate(two, { operationName: 'Cheap' })).toEqual([]);
    expect(codesOf(gate(two, { operationName: 'Costly' }))).toEqual(['KEEL_ERR_QUERY_TOO_COSTLY']);
    expect(gate(two, { operationName: 'Cheap' })).toEqual([]);
    expect(codesOf(gate(two, { operationName: 'Costly' }))).toEqual(['KEEL_ERR_QUERY_TOO_COSTLY']);
  });

  it('reports schema errors with the cost on first sight, and leaves syntax errors to mercurius', () => {
    const gate = checker();
    const invalid = '{ products(first: 100) { edges { node { id colour availability { available } } } } }';
    const errors = gate(invalid, {});
    expect(errors.map((e) => e.message).join('\n')).toContain('Cannot query field "colour"');
    expect(gate('{ products(first: ', {})).toEqual([]);
  });

  it('still checks every text after more texts than it remembers have gone by', () => {
    const gate = checker(2);
    expect(gate(PAGE, { variables: { n: 2 } })).toEqual([]);
    for (let i = 0; i < 5; i++) expect(gate(`{ product(id: "p-${i}") { id } }`, {})).toEqual([]);
    expect(codesOf(gate(PAGE, { variables: { n: 100 } }))).toEqual(['KEEL_ERR_QUERY_TOO_COSTLY']);
  });
});
