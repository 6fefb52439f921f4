/**
 * Real histories for replay debugging tests, written through the command handlers and the order
 * fulfilment process manager (never appended by hand): a confirmed order, an order cancelled out
 * of stock, one whose payment was declined, one that expired waiting for its payment, and a stock
 * race of concurrent orders on a hot SKU. Used by the replay, CLI and inspector tests.
 */
import { inventoryStreamId } from '../../src/commands/inventory/index.js';
import { createFulfilmentHarness, TTL_MS } from './fulfilment-harness.js';
import type { WriteSide } from './write-side.js';

export interface ReplayHistories {
  /** placed → reserved → paid → confirmed (SKUs A×2, B×1). */
  readonly confirmed: string;
  /** Refused reservation of 50 × B: cancelled with KEEL_ERR_OUT_OF_STOCK (B); its C line released. */
  readonly outOfStock: string;
  /** The payment provider declined: cancelled, stock released. */
  readonly declined: string;
  /** The payment never came back before the reservation deadline: cancelled `expired`. */
  readonly expired: string;
  /** Concurrent orders of 2 × HOT with 10 in stock: 5 confirmed, the rest cancelled out of stock. */
  readonly race: readonly string[];
  readonly hotSku: string;
  readonly hotStream: string;
}

/**
 * `tag` suffixes every order id and SKU (default none): a real EventStoreDB server keeps streams
 * between runs, so tests against one pass a tag of their own.
 */
export const writeReplayHistories = async (side: WriteSide, tag = ''): Promise<ReplayHistories> => {
  const h = createFulfilmentHarness(side);
  const [A, B, C, HOT] = ['A', 'B', 'C', 'HOT'].map((sku) => `${sku}${tag}`) as [string, string, string, string];
  const id = (name: string) => `r-${name}${tag}`;
  await h.stockUp([A, B, C, HOT]);
  const runner = await h.start();
  try {
    await h.place(id('confirmed'), [{ sku: A, quantity: 2 }, { sku: B, quantity: 1 }]);
    await h.until('confirmed', h.statusOf(id('confirmed'), 'confirmed'));
    await h.until('stock committed', async () => (await h.stock(A)).sold === 2 && (await h.stock(B)).sold === 1);

    await h.place(id('out-of-stock'), [{ sku: C, quantity: 3 }, { sku: B, quantity: 50 }]);
    await h.until('out of stock', h.statusOf(id('out-of-stock'), 'cancelled'));
    await h.until('C released', async () => (await h.stock(C)).reserved === 0);

    h.knobs.decline = true;
    await h.place(id('declined'), [{ sku: C, quantity: 4 }]);
    await h.until('declined', h.statusOf(id('declined'), 'cancelled'));
    h.knobs.decline = false;
    await h.until('C released', async () => (await h.stock(C)).reserved === 0);

    h.knobs.holdPayments = true;
    await h.place(id('expired'), [{ sku: C, quantity: 5 }]);
    await h.until('C reserved', async () => (await h.stock(C)).reserved === 5);
    h.knobs.clock = new Date(h.knobs.clock.getTime() + TTL_MS + 1_000);
    await h.until('expired', h.statusOf(id('expired'), 'cancelled'));
    await h.until('C released', async () => (await h.stock(C)).reserved === 0);
    h.knobs.holdPayments = false;
    for (const open of h.gates.splice(0)) open();
    await h.until('late payment refunded', async () => (await h.paymentState(id('expired'))).status === 'refunded');

    const race = Array.from({ length: 8 }, (_, i) => id(`race-${i}`));
    await Promise.all(race.map((orderId) => h.place(orderId, [{ sku: HOT, quantity: 2 }])));
    for (const orderId of race) {
      await h.until(`${orderId} settled`, async () => ['confirmed', 'cancelled'].includes((await h.orderState(orderId)).status));
    }
    await h.until('HOT settled', async () => (await h.stock(HOT)).reserved === 0);
  } finally {
    await runner.stop();
  }
  return {
    confirmed: id('confirmed'),
    outOfStock: id('out-of-stock'),
    declined: id('declined'),
    expired: id('expired'),
    race: Array.from({ length: 8 }, (_, i) => id(`race-${i}`)),
    hotSku: HOT,
    hotStream: inventoryStreamId(HOT),
  };
};
