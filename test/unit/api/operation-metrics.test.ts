/** How keel_graphql_* names an operation from the request's text, and bounds the names. */
import { describe, expect, it } from 'vitest';
import { MAX_OPERATION_NAMES, operationOf } from '../../../src/api/graphql/operation-metrics.js';

describe('operationOf', () => {
  it('names an operation by its name and type', () => {
    expect(operationOf('query Product($id: ID!) { product(id: $id) { id } }', undefined)).toEqual({ name: 'Product', type: 'query' });
    expect(operationOf('  mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId } }', 'PlaceOrder')).toEqual({ name: 'PlaceOrder', type: 'mutation' });
  });

  it('names an anonymous one by its first field', () => {
    expect(operationOf('{ product(id: "p") { id } }', undefined)).toEqual({ name: 'product', type: 'query' });
    expect(operationOf('query { myOrders(first: 5) { edges { node { id } } } }', undefined)).toEqual({ name: 'myOrders', type: 'query' });
  });

  it('picks the operation operationName selects, after fragments and other operations', () => {
    const document = 'fragment F on Product { id } query A { product(id: "a") { ...F } } mutation B { listProduct(input: {}) { position } }';
    expect(operationOf(document, 'B')).toEqual({ name: 'B', type: 'mutation' });
    expect(operationOf(document, undefined)).toEqual({ name: 'A', type: 'query' });
  });

  it('does not let clients grow the series without bound', () => {
    expect(operationOf('query { x }', 'not a name')).toEqual({ name: 'x', type: 'query' });
    expect(operationOf('nonsense', '💥')).toEqual({ name: 'invalid', type: 'unknown' });
    for (let i = 0; i < MAX_OPERATION_NAMES + 10; i++) operationOf(`query Op${i} { x }`, undefined);
    expect(operationOf('query NewOne { x }', undefined).name).toBe('other');
    // A name seen before the cap keeps its own series.
    expect(operationOf('query Op0 { x }', undefined).name).toBe('Op0');
  });
});
