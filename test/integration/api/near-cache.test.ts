/**
 * The GraphQL side of the near cache: `product(id)` without a token, and `Product.availability`,
 * are answered from what the read side holds in memory (`heldProduct`, `heldAvailability`), with
 * the request's freshness; with a consistency token the read waits and goes through
 * `productsById`. A recording read side stands in for the real one (whose near cache is tested in
 * read-cache-near.test.ts, on Redis and PostgreSQL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeConsistencyToken } from '../../../src/api/consistency-token.js';
import type { AvailabilityView, Freshness, ProductView, ReadSide } from '../../../src/api/read-side.js';
import { gql, openApiHarness } from '../../support/api-app.js';
import type { ApiHarness } from '../../support/api-app.js';

const product = (price: number, position: bigint): ProductView => ({
  productId: 'p1',
  sku: 'SKU-1',
  name: 'Mug',
  price,
  currency: 'EUR',
  status: 'listed',
  delistReason: null,
  listedAt: '2026-01-01T00:00:00.000Z',
  available: 5,
  updatedPosition: position,
});
const availability = (available: number, position: bigint): AvailabilityView => ({
  sku: 'SKU-1',
  productId: 'p1',
  received: available,
  reserved: 0,
  sold: 0,
  available,
  updatedPosition: position,
});

describe('near-cache reads in the resolvers', () => {
  const calls: string[] = [];
  /** Holds p1 at 100 (price 1000) in "memory"; the slow path answers position 200 (price 2000). */
  const held = (position: bigint, freshness: Freshness = {}) => position >= (freshness.minPosition ?? 0n);
  const unused = (): never => {
    throw new Error('not used here');
  };
  const side: ReadSide = {
    heldProduct: (id, freshness) => {
      calls.push(`heldProduct ${id} ${freshness?.minPosition ?? '-'}`);
      return id === 'p1' && held(100n, freshness) ? product(1000, 100n) : undefined;
    },
    heldAvailability: (sku, freshness) => {
      calls.push(`heldAvailability ${sku} ${freshness?.minPosition ?? '-'}`);
      return sku === 'SKU-1' && held(100n, freshness) ? availability(5, 100n) : undefined;
    },
    productsById: async (ids, freshness) => {
      calls.push(`productsById ${ids.join(',')} ${freshness?.minPosition ?? '-'}`);
      return new Map(ids.filter((id) => id === 'p1').map((id) => [id, product(2000, 200n)]));
    },
    availability: async (skus, freshness) => {
      calls.push(`availability ${skus.join(',')} ${freshness?.minPosition ?? '-'}`);
      return new Map(skus.filter((sku) => sku === 'SKU-1').map((sku) => [sku, availability(7, 200n)]));
    },
    waitFor: async (position) => void calls.push(`waitFor ${position}`),
    products: unused,
    flashSaleBoard: unused,
    ordersOfCustomer: unused,
    ordersById: unused,
    projectionStatus: unused,
    orderChanges: unused,
    availabilityChanges: unused,
    checkHealthy: async () => {},
  };
  let h: ApiHarness;
  const QUERY = 'query ($id: ID!, $t: String) { product(id: $id, consistencyToken: $t) { id price availability { available } } }';

  beforeAll(async () => {
    h = await openApiHarness('api_near_cache', { readSide: side });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers a product and its availability held in memory without the slow path', async () => {
    calls.length = 0;
    expect((await gql(h.app, QUERY, { id: 'p1' })).body).toEqual({ data: { product: { id: 'p1', price: 1000, availability: { available: 5 } } } });
    expect(calls).toEqual(['heldProduct p1 -', 'heldAvailability SKU-1 -']);
  });

  it('falls back to the read side when nothing is held (null when there is nothing at all)', async () => {
    calls.length = 0;
    expect((await gql(h.app, QUERY, { id: 'p2' })).body).toEqual({ data: { product: null } });
    expect(calls).toEqual(['heldProduct p2 -', 'productsById p2 -']);
  });

  it('with a consistency token waits, and takes nothing held older than the token', async () => {
    calls.length = 0;
    expect((await gql(h.app, QUERY, { id: 'p1', t: encodeConsistencyToken(150n) })).body).toEqual({
      data: { product: { id: 'p1', price: 2000, availability: { available: 7 } } },
    });
    expect(calls).toEqual(['waitFor 150', 'productsById p1 150', 'heldAvailability SKU-1 150', 'availability SKU-1 150']);
    // A token the held entries satisfy: served from them after the wait.
    calls.length = 0;
    expect((await gql(h.app, QUERY, { id: 'p1', t: encodeConsistencyToken(100n) })).body).toEqual({
      data: { product: { id: 'p1', price: 2000, availability: { available: 5 } } },
    });
    expect(calls).toEqual(['waitFor 100', 'productsById p1 100', 'heldAvailability SKU-1 100']);
  });
});
