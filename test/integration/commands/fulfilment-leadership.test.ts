/**
 * Two processes running the order process manager (a projector and its standby): one runs the
 * reactions, the other stands by, and takes over when the leader's connection dies. Before the
 * process manager was elected, both reacted to every event and called the payment provider twice.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFulfilment, type FulfilmentRunner } from '../../../src/commands/fulfilment/runner.js';
import { openEventStore } from '../../../src/eventstore/open.js';
import type { EventStore } from '../../../src/eventstore/port.js';
import { openDatabase, type DatabaseHandle } from '../../../src/platform/database.js';
import { createLeadership, LOCK_CLASS, type Leadership } from '../../../src/platform/leadership.js';
import { createFulfilmentHarness, TTL_MS } from '../../support/fulfilment-harness.js';
import { commandsOn, openWriteSide, type WriteSide } from '../../support/write-side.js';

const silent = { info: () => {}, warn: () => {}, error: () => {} };

interface Process {
  readonly handle: DatabaseHandle;
  readonly store: EventStore;
  readonly leadership: Leadership;
  readonly runner: FulfilmentRunner;
  stop(): Promise<void>;
}

describe('the order process manager across processes', () => {
  let side: WriteSide;
  let h: ReturnType<typeof createFulfilmentHarness>;
  const processes: Process[] = [];

  /** A process of its own: its own pool, dedicated session, store, handler and runner. */
  const startProcess = async (): Promise<Process> => {
    const handle = await openDatabase({ databaseUrl: side.url, dataDir: '' });
    const store = await openEventStore(handle);
    const leadership = createLeadership(handle, 100);
    const { handler, commerce } = commandsOn(store);
    const runner = await startFulfilment({
      store, db: handle.db, handler, commerce, provider: h.provider, logger: silent, leadership,
      clock: () => h.knobs.clock, reservationTtlMs: TTL_MS, checkpointIntervalMs: 20, sweepIntervalMs: 20,
    });
    const process = {
      handle, store, leadership, runner,
      stop: async () => {
        await runner.stop();
        await leadership.close();
        await store.close();
        await handle.close();
      },
    };
    processes.push(process);
    return process;
  };

  beforeAll(async () => {
    side = await openWriteSide('fulfilment_leadership');
    h = createFulfilmentHarness(side);
    await h.stockUp(['LEAD-1']);
  });
  afterAll(async () => {
    for (const process of processes) await process.stop();
    await side?.close();
  });

  it('runs the reactions in one process, and in the standby once the leader is gone', async () => {
    const first = await startProcess();
    await h.until('the first process leads', async () => first.runner.leading());
    const second = await startProcess();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(second.runner.leading()).toBe(false);

    await h.place('lead-order-1', [{ sku: 'LEAD-1', quantity: 1 }]);
    await h.until('order 1 confirmed', h.statusOf('lead-order-1', 'confirmed'));
    // One process asked the provider: a standby that also reacted would have asked again.
    expect(h.provider.calls).toBe(1);

    // The leader's session dies (its process crashed, its connection dropped): the lock goes with it.
    await sql`select pg_terminate_backend(pid) from pg_locks
      where locktype = 'advisory' and granted and classid = ${LOCK_CLASS}::bigint::oid
        and database = (select oid from pg_database where datname = current_database())`.execute(side.handle.db);
    await h.until('the standby leads', async () => second.runner.leading());
    expect(first.runner.leading()).toBe(false);

    await h.place('lead-order-2', [{ sku: 'LEAD-1', quantity: 1 }]);
    await h.until('order 2 confirmed', h.statusOf('lead-order-2', 'confirmed'));
    expect(h.provider.calls).toBe(2);
    // The stock is committed in reaction to OrderConfirmed, a step after the order's status.
    await h.until('stock committed', async () => (await h.stock('LEAD-1')).sold === 2);
    expect(await h.stock('LEAD-1')).toEqual({ received: 10, reserved: 0, sold: 2 });
  });
});
