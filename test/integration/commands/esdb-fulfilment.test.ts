/**
 * The order-fulfilment process manager with its events in EventStoreDB (the adapter on
 * EsdbProtocolDouble, an in-process FAKE of EventStoreDB's protocol) and its checkpoint in
 * PostgreSQL: orders go through end to end, and a restart from the PostgreSQL checkpoint — the
 * state a crash leaves — neither loses nor repeats a step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FulfilmentRunner } from '../../../src/commands/fulfilment/runner.js';
import { paymentStreamId } from '../../../src/commands/payment/index.js';
import { readCheckpoint, writeCheckpoint, type FulfilmentTables } from '../../../src/commands/fulfilment/store.js';
import { collect } from '../../support/event-store-fixtures.js';
import { describeFulfilment } from '../../support/fulfilment-scenarios.js';
import { createFulfilmentHarness, type FulfilmentHarness } from '../../support/fulfilment-harness.js';
import { openWriteSide, type WriteSide } from '../../support/write-side.js';

const NAME = 'order-fulfilment';

describeFulfilment('the EventStoreDB adapter (protocol double, fake)', () => openWriteSide('esdb_fulfilment_scenarios', 'esdb'));

describe('order fulfilment on the EventStoreDB adapter (protocol double, fake), checkpoint in PostgreSQL', () => {
  let side: WriteSide;
  let h: FulfilmentHarness;
  let runner: FulfilmentRunner;
  const checkpoints = () => side.handle.db.withTables<FulfilmentTables>();
  /** How many events of each type `$all` holds. */
  const countByType = async (): Promise<Record<string, number>> => {
    const counts: Record<string, number> = {};
    for await (const event of side.store.readAll()) counts[event.type] = (counts[event.type] ?? 0) + 1;
    return counts;
  };

  beforeAll(async () => {
    side = await openWriteSide('esdb_fulfilment', 'esdb');
    expect(side.store.kind).toBe('eventstoredb');
    h = createFulfilmentHarness(side);
    await h.stockUp(['A', 'B', 'C']);
    runner = await h.start();
  });
  afterAll(async () => {
    await runner.stop();
    await side.close();
  });

  it('placed → reserved → paid → confirmed, and a declined payment cancels and releases', async () => {
    await h.place('o1', [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }]);
    await h.until('o1 confirmed', h.statusOf('o1', 'confirmed'));
    await h.until('stock committed', async () => (await h.stock('A')).sold === 2 && (await h.stock('B')).sold === 1);
    expect((await h.paymentState('o1')).status).toBe('authorized');

    h.knobs.decline = true;
    await h.place('o2', [{ sku: 'C', quantity: 4 }]);
    await h.until('o2 cancelled', h.statusOf('o2', 'cancelled'));
    h.knobs.decline = false;
    await h.until('C released', async () => (await h.stock('C')).reserved === 0);
    expect((await h.paymentState('o2')).status).toBe('failed');
    // The checkpoint lives in PostgreSQL and follows the EventStoreDB positions.
    await h.until('checkpoint saved', async () => ((await readCheckpoint(checkpoints(), NAME)) ?? 0n) > 0n);
  });

  it('restarting from the checkpoint a crash left behind loses no order and repeats no step', async () => {
    // Payments held: reactions are in flight, so the saved checkpoint stays below them.
    h.knobs.holdPayments = true;
    await h.place('o3', [{ sku: 'A', quantity: 1 }]);
    await h.place('o4', [{ sku: 'B', quantity: 2 }, { sku: 'C', quantity: 1 }]);
    await h.until('payments requested', async () => h.gates.length === 2);
    const crashPoint = (await readCheckpoint(checkpoints(), NAME)) ?? 0n;
    const [requested] = await collect(side.store.readStream(paymentStreamId('o4')));
    expect(crashPoint < (requested?.position ?? 0n)).toBe(true); // the restart must replay o4's payment
    h.knobs.holdPayments = false;
    for (const open of h.gates.splice(0)) open();
    await h.until('o3 and o4 confirmed', async () => (await h.statusOf('o3', 'confirmed')()) && (await h.statusOf('o4', 'confirmed')()));
    await runner.stop();

    // While it is down an order arrives; then it restarts from where a crash would have left it.
    await h.place('o5', [{ sku: 'C', quantity: 2 }]);
    const before = await countByType();
    const charges = h.provider.charges;
    await writeCheckpoint(checkpoints(), NAME, crashPoint);
    runner = await h.start();
    await h.until('o5 confirmed', h.statusOf('o5', 'confirmed'));
    await h.until('caught up', async () => runner.position() >= (await side.store.headPosition()));

    const after = await countByType();
    // Only o5's steps are new: one reservation, request, authorization, commit and confirmation.
    expect(after).toEqual({
      ...before,
      StockReserved: (before.StockReserved ?? 0) + 1,
      PaymentRequested: (before.PaymentRequested ?? 0) + 1,
      PaymentAuthorized: (before.PaymentAuthorized ?? 0) + 1,
      StockCommitted: (before.StockCommitted ?? 0) + 1,
      OrderConfirmed: (before.OrderConfirmed ?? 0) + 1,
    });
    expect(h.provider.charges).toBe(charges + 1);
    for (const orderId of ['o1', 'o3', 'o4', 'o5']) expect((await h.orderState(orderId)).status).toBe('confirmed');
    expect(await h.stock('C')).toEqual({ received: 10, reserved: 0, sold: 3 });
  });
});
