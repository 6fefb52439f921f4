/**
 * The command-handling scenarios (load → decide → append, idempotency, conflicts between
 * processes, the hot-stream path), written once and run on every event store target:
 * test/integration/commands/command-handler.test.ts (PostgreSQL, PGlite) and
 * test/integration/commands/esdb-write-side.test.ts (the EventStoreDB adapter).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryAggregate, productAggregate } from '../../src/commands/aggregates.js';
import { inventoryStreamId } from '../../src/commands/inventory/index.js';
import { productStreamId } from '../../src/commands/product/index.js';
import { at, commandsOn, countEvents, type WriteSide } from './write-side.js';

const NOW = '2026-11-23T10:00:00.000Z';
const LATER = '2026-11-23T10:15:00.000Z';

export const describeCommandHandling = (name: string, open: () => Promise<WriteSide>): void => {
  describe(`command handling on ${name}`, () => {
    let side: WriteSide;
    beforeAll(async () => {
      side = await open();
    });
    afterAll(async () => side.close());

    const list = async (commerce: ReturnType<typeof commandsOn>['commerce'], id: string, sku: string) =>
      commerce.listProduct({ productId: id, sku, name: `Product ${id}`, price: 1999, currency: 'EUR' }, at(NOW));

    it('load → decide → append returns the revision and position of the write', async () => {
      const { commerce } = commandsOn(side.store);
      const listed = await list(commerce, 'p1', 'SKU-1');
      expect(listed.streamId).toBe('product-p1');
      expect(listed.revision).toBe(0n);
      expect(listed.position).toBeGreaterThan(0n);
      const changed = await commerce.changePrice({ productId: 'p1', price: 2499 }, at(NOW));
      expect(changed.revision).toBe(1n);
      expect(changed.position).toBeGreaterThan(listed.position);
      expect(changed.events).toEqual([{ type: 'ProductPriceChanged', data: expect.objectContaining({ price: 2499, previousPrice: 1999 }) }]);
    });

    it('a re-sent command returns its original result and writes nothing, even from another process', async () => {
      const first = commandsOn(side.store);
      await list(first.commerce, 'p2', 'SKU-2');
      const request = { ...at(NOW), commandId: 'receive-once' };
      const original = await first.commerce.receiveStock({ sku: 'SKU-2', quantity: 10 }, request);
      const before = await countEvents(side);
      const again = await first.commerce.receiveStock({ sku: 'SKU-2', quantity: 10 }, request);
      const elsewhere = await commandsOn(side.store).commerce.receiveStock({ sku: 'SKU-2', quantity: 10 }, request);
      expect(await countEvents(side)).toBe(before);
      for (const resent of [again, elsewhere]) {
        expect(resent.duplicate).toBe(true);
        expect(resent.revision).toBe(original.revision);
        expect(resent.position).toBe(original.position);
        expect(resent.events).toEqual(original.events);
      }
    });

    it('regression: a key reused for another request was answered as a duplicate — refused; a true re-send answers with what was stored', async () => {
      const first = commandsOn(side.store);
      await list(first.commerce, 'p-idem', 'SKU-IDEM');
      const key = { ...at(NOW), commandId: 'api:changePrice:admin:cp1' };
      const original = await first.commerce.changePrice({ productId: 'p-idem', price: 1500 }, { ...key, fingerprint: 'price-1500' });
      const before = await countEvents(side);
      for (const process of [first, commandsOn(side.store)]) {
        await expect(process.commerce.changePrice({ productId: 'p-idem', price: 9999 }, { ...key, fingerprint: 'price-9999' }))
          .rejects.toMatchObject({ code: 'KEEL_ERR_IDEMPOTENCY_KEY_REUSED', message: expect.not.stringContaining('product-') });
        const resent = await process.commerce.changePrice({ productId: 'p-idem', price: 1500 }, { ...key, fingerprint: 'price-1500' });
        expect(resent).toMatchObject({ duplicate: true, revision: original.revision, position: original.position, events: original.events });
      }
      // Two requests with one key in the same batch: the first is decided, the other refused.
      const batched = await Promise.allSettled([
        first.commerce.changePrice({ productId: 'p-idem', price: 1700 }, { ...at(NOW), commandId: 'cp2', fingerprint: 'a' }),
        first.commerce.changePrice({ productId: 'p-idem', price: 1800 }, { ...at(NOW), commandId: 'cp2', fingerprint: 'b' }),
      ]);
      expect(batched.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as { code?: string }).code))).toEqual(['ok', 'KEEL_ERR_IDEMPOTENCY_KEY_REUSED']);
      expect(await countEvents(side)).toBe(before + 1);
      const { state } = await commandsOn(side.store).handler.load(productAggregate, productStreamId('p-idem'));
      expect(state.status === 'listed' && state.price).toBe(1700);
    });

    it('regression: placeOrder trusted the client price — it prices from the product stream, as another process last changed it', async () => {
      const shop = commandsOn(side.store);
      await shop.commerce.listProduct({ productId: 'p-kettle', sku: 'KETTLE', name: 'Kettle', price: 2999, currency: 'EUR' }, at(NOW));
      await shop.commerce.receiveStock({ sku: 'KETTLE', quantity: 10 }, at(NOW));
      const order = (orderId: string, line: Record<string, unknown>, currency?: string) =>
        shop.commerce.placeOrder({ orderId, customerId: 'c1', lines: [{ sku: 'KETTLE', quantity: 3, ...line }], ...(currency ? { currency } : {}) }, at(NOW));
      const before = await countEvents(side);
      await expect(order('o-cheat', { unitPrice: 1 }, 'JPY')).rejects.toMatchObject({ code: 'KEEL_ERR_PRICE_CHANGED', details: { currentPrice: 2999, currency: 'EUR' } });
      await expect(order('o-yen', {}, 'JPY')).rejects.toMatchObject({ code: 'KEEL_ERR_CURRENCY_MISMATCH' });
      expect(await countEvents(side)).toBe(before);
      const placed = await order('o-fair', {});
      expect(placed.events).toEqual([{ type: 'OrderPlaced', data: expect.objectContaining({ total: 3 * 2999, currency: 'EUR', lines: [{ sku: 'KETTLE', quantity: 3, unitPrice: 2999 }] }) }]);
      // The price changes in another process; this one has the product cached and must not use it.
      await commandsOn(side.store).commerce.changePrice({ productId: 'p-kettle', price: 3499 }, at(NOW));
      await expect(order('o-stale', { unitPrice: 2999 })).rejects.toMatchObject({ code: 'KEEL_ERR_PRICE_CHANGED', details: { sentPrice: 2999, currentPrice: 3499 } });
      const repriced = await order('o-new', { unitPrice: 3499 }, 'EUR');
      expect(repriced.events[0]?.data).toMatchObject({ total: 3 * 3499 });
      await commandsOn(side.store).commerce.delistProduct({ productId: 'p-kettle', reason: 'recalled' }, at(NOW));
      await expect(order('o-recalled', {})).rejects.toMatchObject({ code: 'KEEL_ERR_PRODUCT_DELISTED', details: { sku: 'KETTLE' } });
    });

    it('stores metadata: command id, correlation, causation, actor and timestamp on every event', async () => {
      const { commerce } = commandsOn(side.store);
      await list(commerce, 'p3', 'SKU-3');
      const request = { actor: 'alice', now: NOW, commandId: 'cmd-meta', correlationId: 'corr-1', causationId: 'cause-1' };
      await commerce.receiveStock({ sku: 'SKU-3', quantity: 5 }, request);
      const events = [];
      for await (const e of side.store.readStream(inventoryStreamId('SKU-3'))) events.push(e);
      expect(events.at(-1)?.metadata).toMatchObject({
        commandId: 'cmd-meta', correlationId: 'corr-1', causationId: 'cause-1', actor: 'alice', timestamp: NOW,
      });
    });

    it('rejects bad input with a coded error before anything is appended', async () => {
      const { commerce } = commandsOn(side.store);
      const before = await countEvents(side);
      const cases: [() => Promise<unknown>, string][] = [
        [() => commerce.receiveStock({ sku: 'NOPE', quantity: 1 }, at(NOW)), 'KEEL_ERR_UNKNOWN_SKU'],
        [() => commerce.receiveStock({ sku: 'SKU-3', quantity: -1 }, at(NOW)), 'KEEL_ERR_VALIDATION'],
        [() => commerce.changePrice({ productId: 'not an id!', price: 1 }, at(NOW)), 'KEEL_ERR_VALIDATION'],
        [() => commerce.listProduct({ productId: 'p9', sku: 'S9', name: 'x'.repeat(70_000), price: 1, currency: 'EUR' }, at(NOW)), 'KEEL_ERR_PAYLOAD_TOO_LARGE'],
        [() => commerce.placeOrder({ orderId: 'o1', customerId: 'c1', currency: 'EUR', lines: [{ sku: 'GHOST', quantity: 1, unitPrice: 100 }] }, at(NOW)), 'KEEL_ERR_UNKNOWN_SKU'],
      ];
      for (const [attempt, code] of cases) await expect(attempt()).rejects.toMatchObject({ code });
      expect(await countEvents(side)).toBe(before);
    });

    it('a conflict between two processes is retried: both commands land, in some order', async () => {
      const a = commandsOn(side.store);
      const b = commandsOn(side.store);
      await list(a.commerce, 'p4', 'SKU-4');
      await a.handler.load(inventoryAggregate, inventoryStreamId('SKU-4'));
      await b.handler.load(inventoryAggregate, inventoryStreamId('SKU-4'));
      await Promise.all([
        a.commerce.receiveStock({ sku: 'SKU-4', quantity: 3 }, at(NOW)),
        b.commerce.receiveStock({ sku: 'SKU-4', quantity: 4 }, at(NOW)),
      ]);
      const fresh = commandsOn(side.store);
      const { state } = await fresh.handler.load(inventoryAggregate, inventoryStreamId('SKU-4'));
      expect(state.status === 'tracked' && state.received).toBe(7);
      expect(a.handler.stats().conflicts + b.handler.stats().conflicts).toBeGreaterThanOrEqual(1);
    });

    it('hot stream: concurrent reservations are decided in batches, one append each, never oversold', async () => {
      const { commerce, handler } = commandsOn(side.store);
      await list(commerce, 'flash', 'FLASH-1');
      await commerce.receiveStock({ sku: 'FLASH-1', quantity: 100 }, at(NOW));
      const statsBefore = handler.stats();
      const attempts = Array.from({ length: 1_000 }, (_, i) =>
        commerce.reserveStock({ sku: 'FLASH-1', orderId: `o-${i}`, quantity: 1, expiresAt: LATER }, at(NOW)),
      );
      const outcomes = await Promise.allSettled(attempts);
      const reserved = outcomes.filter((o) => o.status === 'fulfilled').length;
      const refusals = outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as { code?: string }).code] : []));
      expect(reserved).toBe(100);
      expect(refusals).toHaveLength(900);
      expect(new Set(refusals)).toEqual(new Set(['KEEL_ERR_OUT_OF_STOCK']));
      const stats = handler.stats();
      expect(stats.conflicts - statsBefore.conflicts).toBe(0);
      expect(stats.appends - statsBefore.appends).toBeLessThan(100);
      const { state } = await commandsOn(side.store).handler.load(inventoryAggregate, inventoryStreamId('FLASH-1'));
      expect(state.status === 'tracked' && [state.received, state.reserved, state.sold]).toEqual([100, 100, 0]);
    });

    it('each caller of a batch gets its own result: revisions are distinct and consecutive', async () => {
      const { commerce } = commandsOn(side.store);
      await list(commerce, 'p5', 'SKU-5');
      const results = await Promise.all(
        Array.from({ length: 20 }, () => commerce.receiveStock({ sku: 'SKU-5', quantity: 1 }, at(NOW))),
      );
      const revisions = results.map((r) => r.revision).sort((x, y) => (x < y ? -1 : 1));
      expect(revisions).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1)));
    });
  });
};
