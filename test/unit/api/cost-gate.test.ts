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
const PAGE = 'query ($n: Int) { products(first: $n) { edges { node { id name availability { available } } } } }';

describe('costGate', () => {
  it('measures a text whose cost reads its variables on every request, cheap first or costly first', () => {
    const gate = costGate(rules);
    expect(gate(schema, PAGE, { variables: { n: 2 } })).toEqual([]);
    expect(codesOf(gate(schema, PAGE, { variables: { n: 100 } }))).toEqual(['KEEL_ERR_QUERY_TOO_COSTLY']);
    expect(gate(schema, PAGE, { variables: { n: 3 } })).toEqual([]);
    expect(codesOf(gate(schema, PAGE, { variables: { n: 50 } }))).toEqual(['KEEL_ERR_QUERY_TOO_COSTLY']);
  });

  it('refuses a fixed-cost text over the limit every time, and a directive on a variable counts as reading it', () => {
    const gate = costGate(rules);
    const fixed = '{ products(first: 100) { edges { node { id name availability { available } } } } }';
    for (let i = 0; i < 3; i++) expect(codesOf(gate(schema, fixed, {}))).toEqual(['KEEL_ERR_QUERY_TOO_COSTLY']);
    const skipped = 'query ($big: Boolean!) { products(first: 100) @include(if: $big) { edges { node { id name availability { available } } } } }';
    expect(gate(schema, skipped, { variables: { big: false } })).toEqual([]);
    expect(codesOf(gate(schema, skipped, { variables: { big: true } }))).toEqual(['KEEL_ERR_QUERY_TOO_COSTLY']);
  });

  it('keeps a verdict per operation name of a text with several operations', () => {
    const gate = costGate(rules);
    const two = 'query Cheap { products(first: 2) { edges { node { id } } } } query Costly { products(first: 100) { edges { node { id name availability { available } } } } }';
    expect(gate(schema, two, { operationName: 'Cheap' })).toEqual([]);
    expect(codesOf(gate(schema, two, { operationName: 'Costly' }))).toEqual(['KEEL_ERR_QUERY_TOO_COSTLY']);
    expect(gate(schema, two, { operationName: 'Cheap' })).toEqual([]);
    expect(codesOf(gate(schema, two, { operationName: 'Costly' }))).toEqual(['KEEL_ERR_QUERY_TOO_COSTLY']);
  });

  it('reports schema errors with the cost on first sight, and leaves syntax errors to mercurius', () => {
    const gate = costGate(rules);
    const invalid = '{ products(first: 100) { edges { node { id colour availability { available } } } } }';
    const errors = gate(schema, invalid, {});
    expect(errors.map((e) => e.message).join('\n')).toContain('Cannot query field "colour"');
    expect(gate(schema, '{ products(first: ', {})).toEqual([]);
  });

  it('still checks every text after more texts than it remembers have gone by', () => {
    const gate = costGate(rules, 2);
    expect(gate(schema, PAGE, { variables: { n: 2 } })).toEqual([]);
    for (let i = 0; i < 5; i++) expect(gate(schema, `{ product(id: "p-${i}") { id } }`, {})).toEqual([]);
    expect(codesOf(gate(schema, PAGE, { variables: { n: 100 } }))).toEqual(['KEEL_ERR_QUERY_TOO_COSTLY']);
  });
});
