/**
 * Seeds Keel through its own API, as a client would: PRODUCTS products listed and stocked by an
 * admin, ORDERS orders placed by CUSTOMERS customers; then waits (consistency tokens) until the
 * catalog and the orders projections have applied all of it, and reads every product once so the
 * cache holds it.
 */
import { runWorkers, itemsOf } from '../load.js';
import { postGraphql, stringField } from './graphql-client.js';

export interface SeedSizes {
  readonly products: number;
  readonly orders: number;
  readonly customers: number;
  readonly stockPerSku: number;
}

export interface Seeded {
  readonly productIds: readonly string[];
  readonly orderIds: readonly string[];
  /** The consistency token of the last write. */
  readonly lastToken: string;
}

export const productIdOf = (n: number): string => `bench-p-${n}`;
export const skuOf = (n: number): string => `BENCH-SKU-${n}`;
export const customerOf = (n: number): string => `bench-c-${n}`;
export const PRICE = 1000;

const SEED_CALLERS = 8;

export const seedThroughApi = async (
  url: string,
  sizes: SeedSizes,
  tokens: { readonly admin: string; readonly customer: (customer: string) => string },
): Promise<Seeded> => {
  const productIds = Array.from({ length: sizes.products }, (_, n) => productIdOf(n));
  let lastToken = '';
  await runWorkers(SEED_CALLERS, async (worker) => {
    for (const n of itemsOf(worker, SEED_CALLERS, sizes.products)) {
      const listed = await postGraphql(
        url,
        'mutation ($input: ListProductInput!) { listProduct(input: $input) { consistencyToken } }',
        { input: { productId: productIdOf(n), sku: skuOf(n), name: `Bench product ${n}`, price: PRICE, currency: 'EUR' } },
        tokens.admin,
      );
      stringField(listed, 'listProduct', 'consistencyToken');
      const received = await postGraphql(
        url,
        'mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { consistencyToken } }',
        { input: { sku: skuOf(n), quantity: sizes.stockPerSku } },
        tokens.admin,
      );
      lastToken = stringField(received, 'receiveStock', 'consistencyToken');
    }
  });
  // Order ids are the server's; each seed order's idempotency key names it, its payload gives its id.
  const orderIds: string[] = Array.from({ length: sizes.orders }, () => '');
  await runWorkers(SEED_CALLERS, async (worker) => {
    for (const n of itemsOf(worker, SEED_CALLERS, sizes.orders)) {
      const lines = [0, 1, 2].map((k) => ({ sku: skuOf((n + k * 7) % sizes.products), quantity: 1 + k, unitPrice: PRICE }));
      const placed = await postGraphql(
        url,
        'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId consistencyToken } }',
        { input: { idempotencyKey: `bench-o-${n}`, lines, currency: 'EUR' } },
        tokens.customer(customerOf(n % sizes.customers)),
      );
      orderIds[n] = stringField(placed, 'placeOrder', 'orderId');
      lastToken = stringField(placed, 'placeOrder', 'consistencyToken');
    }
  });
  // The last write's token covers every earlier one (positions are global).
  const lastOrder = orderIds.at(-1);
  if (lastOrder !== undefined) {
    stringField(await postGraphql(url, 'query ($id: ID!, $t: String) { order(id: $id, consistencyToken: $t) { id } }', { id: lastOrder, t: lastToken }, tokens.admin), 'order', 'id');
  }
  // Warm the cache: one read of every product (and its SKU's availability) after the catalog caught up.
  for (const id of productIds) {
    stringField(
      await postGraphql(url, 'query ($id: ID!, $t: String) { product(id: $id, consistencyToken: $t) { id availability { sku } } }', { id, t: lastToken }),
      'product',
      'id',
    );
  }
  return { productIds, orderIds, lastToken };
};
