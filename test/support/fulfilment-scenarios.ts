/**
 * The order-fulfilment scenarios, written once and run on every event store target (as the
 * command-handling scenarios are): test/integration/commands/fulfilment.test.ts (PostgreSQL) and
 * test/integration/commands/esdb-fulfilment.test.ts (the EventStoreDB adapter on its protocol double; the
 * checkpoint is in PostgreSQL in both).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FulfilmentRunner } from '../../src/commands/fulfilment/runner.js';
import { KeelError, ValidationError } from '../../src/platform/errors.js';
import { createFulfilmentHarness, TTL_MS, type FulfilmentHarness } from './fulfilment-harness.js';
import { countEvents, type WriteSide } from './write-side.js';

export const describeFulfilment = (name: string, open: () => Promise<WriteSide>): void => {
  describe(`order fulfilment process manager on ${name}`, () => {
    let side: WriteSide;
    let h: FulfilmentHarness;
    let runner: FulfilmentRunner;

    beforeAll(async () => {
      side = await open();
      h = createFulfilmentHarness(side);
      await h.stockUp(['A', 'B', 'C']);
      runner = await h.start();
    });
    afterAll(async () => {
      await runner.stop();
      await side.close();
    });

    it('placed → reserved → paid → confirmed, with the stock committed', async () => {
      await h.place('o1', [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }]);
      await h.until('o1 confirmed', h.statusOf('o1', 'confirmed'));
      await h.until('stock committed', async () => (await h.stock('A')).sold === 2 && (await h.stock('B')).sold === 1);
      expect(await h.stock('A')).toEqual({ received: 10, reserved: 0, sold: 2 });
      const payment = await h.paymentState('o1');
      expect(payment.status).toBe('authorized');
    });

    it('a refused reservation cancels the order and releases the lines that were reserved', async () => {
      await h.place('o2', [{ sku: 'C', quantity: 3 }, { sku: 'B', quantity: 50 }]);
      await h.until('o2 cancelled', h.statusOf('o2', 'cancelled'));
      const order = await h.orderState('o2');
      expect(order.status === 'cancelled' && order.reason).toContain('KEEL_ERR_OUT_OF_STOCK');
      await h.until('C released', async () => (await h.stock('C')).reserved === 0);
      expect(await h.stock('C')).toEqual({ received: 10, reserved: 0, sold: 0 });
    });

    it('a declined payment cancels the order and releases its stock', async () => {
      h.knobs.decline = true;
      await h.place('o3', [{ sku: 'C', quantity: 4 }]);
      await h.until('o3 cancelled', h.statusOf('o3', 'cancelled'));
      h.knobs.decline = false;
      await h.until('C released', async () => (await h.stock('C')).reserved === 0);
      const payment = await h.paymentState('o3');
      expect(payment.status).toBe('failed');
    });

    it('an order whose payment does not come back in time expires: cancelled, released, refunded if paid late', async () => {
      h.knobs.holdPayments = true;
      await h.place('o4', [{ sku: 'C', quantity: 5 }]);
      await h.until('C reserved', async () => (await h.stock('C')).reserved === 5);
      h.knobs.clock = new Date(h.knobs.clock.getTime() + TTL_MS + 1_000);
      await h.until('o4 cancelled', h.statusOf('o4', 'cancelled'));
      await h.until('C released', async () => (await h.stock('C')).reserved === 0);
      h.knobs.holdPayments = false;
      for (const open of h.gates.splice(0)) open();
      await h.until('late payment refunded', async () => {
        return (await h.paymentState('o4')).status === 'refunded';
      });
      expect(await h.stock('C')).toEqual({ received: 10, reserved: 0, sold: 0 });
    });

    it('retries a step that lost every concurrency retry to other writers, instead of dropping it', async () => {
      await runner.stop();
      let conflicts = 0;
      runner = await h.start((commerce) => ({
        ...commerce,
        commitStock: (...args) => {
          if (conflicts++ < 2) return Promise.reject(new KeelError('KEEL_ERR_CONFLICT_RETRIES_EXHAUSTED', 'lost every retry (test)'));
          return commerce.commitStock(...args);
        },
      }));
      const before = (await h.stock('A')).sold;
      await h.place('o5', [{ sku: 'A', quantity: 1 }]);
      await h.until('o5 confirmed and its stock committed', async () => (await h.orderState('o5')).status === 'confirmed' && (await h.stock('A')).sold === before + 1);
      expect(conflicts).toBe(3);
      expect((await h.stock('A')).reserved).toBe(0);
    });

    it('does not checkpoint a reaction that shutdown interrupted: the next start runs it again', async () => {
      await runner.stop();
      let failing = true;
      let attempts = 0;
      runner = await h.start((commerce) => ({
        ...commerce,
        commitStock: (...args) => {
          attempts++;
          if (failing) return Promise.reject(new KeelError('KEEL_ERR_EVENTSTORE_UNAVAILABLE', 'unreachable (test)'));
          return commerce.commitStock(...args);
        },
      }));
      const before = (await h.stock('B')).sold;
      await h.place('o6', [{ sku: 'B', quantity: 1 }]);
      await h.until('o6 confirmed and its commit failing', async () => (await h.orderState('o6')).status === 'confirmed' && attempts > 0);
      await runner.stop();
      expect((await h.stock('B')).sold).toBe(before);
      failing = false;
      runner = await h.start();
      await h.until('o6 committed after the restart', async () => (await h.stock('B')).sold === before + 1);
      expect((await h.stock('B')).reserved).toBe(0);
    });

    it('a step refused for good cancels the order at once, with the reason, and releases its stock', async () => {
      await runner.stop();
      runner = await h.start((commerce) => ({
        ...commerce,
        // What a payment refuses for good (an amount it cannot take) is a validation error.
        requestPayment: () => Promise.reject(new ValidationError('data.amount', 'too large (test)')),
      }));
      await h.place('o7', [{ sku: 'A', quantity: 2 }]);
      await h.until('o7 cancelled', h.statusOf('o7', 'cancelled'), 5_000);
      const order = await h.orderState('o7');
      expect(order.status === 'cancelled' && order.reason).toBe('fulfilment step after OrderPlaced refused: KEEL_ERR_VALIDATION');
      await h.until('A released', async () => (await h.stock('A')).reserved === 0, 5_000);
      await runner.stop();
      runner = await h.start();
    });

    it('restart-safe: replaying from an old checkpoint repeats no step (no new events, no second charge)', async () => {
      const head = await side.store.headPosition();
      await h.until('caught up', async () => runner.position() >= head);
      await runner.stop();
      const events = await countEvents(side);
      const charges = h.provider.charges;
      await side.handle.db.withTables<{ keel_process_checkpoints: { name: string; position: string } }>()
        .updateTable('keel_process_checkpoints').set({ position: '0' }).where('name', '=', 'order-fulfilment').execute();
      runner = await h.start();
      await h.until('caught up again', async () => runner.position() >= head);
      await new Promise((r) => setTimeout(r, 200));
      expect(await countEvents(side)).toBe(events);
      expect(h.provider.charges).toBe(charges);
      expect((await h.orderState('o1')).status).toBe('confirmed');
    });
  });
};
