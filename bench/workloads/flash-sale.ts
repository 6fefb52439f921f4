/**
 * flash: the hot stream. One SKU receives FLASH_UNITS units, then FLASH_ATTEMPTS one-unit
 * reserveStock commands (each its own order) come from `concurrency` callers through Keel's
 * commerce commands. The handler batches them per stream; refusals are KEEL_ERR_OUT_OF_STOCK.
 * Afterwards the stream is folded from the store to check that nothing was oversold.
 */
import { inventoryAggregate } from '../../src/commands/aggregates.js';
import { createCommandHandler } from '../../src/commands/handler/command-handler.js';
import type { HandlerStats } from '../../src/commands/handler/command-handler.js';
import { createCommerceCommands } from '../../src/commands/front-door.js';
import type { RequestContext } from '../../src/commands/front-door.js';
import { inventoryStreamId } from '../../src/commands/inventory/index.js';
import type { InventoryState } from '../../src/commands/inventory/index.js';
import type { EventStore } from '../../src/eventstore/port.js';
import { isKeelError } from '../../src/platform/errors.js';
import { Latencies, round, runWorkers, timed } from '../load.js';
import type { Workload } from './workload.js';

const FLASH_UNITS = 1_000;
const FLASH_ATTEMPTS = 3_000;
const SKU = 'FLASH-SKU-1';
const HOLD_MS = 15 * 60_000;

const request = (): RequestContext => ({ actor: 'bench', now: new Date().toISOString() });

const delta = (after: HandlerStats, before: HandlerStats): HandlerStats => ({
  commands: after.commands - before.commands,
  batches: after.batches - before.batches,
  appends: after.appends - before.appends,
  conflicts: after.conflicts - before.conflicts,
});

/** The stream folded from the store (not the handler's cache). */
const foldStream = async (store: EventStore): Promise<InventoryState> => {
  const { decider } = inventoryAggregate;
  let state = decider.initialState();
  for await (const stored of store.readStream(inventoryStreamId(SKU))) state = decider.evolve(state, inventoryAggregate.fromStored(stored));
  return state;
};

export const flashSale: Workload = {
  id: 'flash',
  title: 'hot-stream flash sale',
  settings: { sku: SKU, units: FLASH_UNITS, attempts: FLASH_ATTEMPTS, unitsPerReservation: 1 },
  async run({ store, concurrency }) {
    const handler = createCommandHandler(store);
    const commerce = createCommerceCommands(handler);
    await commerce.listProduct({ productId: 'flash-product', sku: SKU, name: 'Flash sale item', price: 999, currency: 'EUR' }, request());
    await commerce.receiveStock({ sku: SKU, quantity: FLASH_UNITS }, request());
    const before = handler.stats();
    const latencies = new Latencies();
    const outcome = { reserved: 0, outOfStock: 0, errors: 0, firstErrors: [] as string[] };
    let next = 0;
    const { seconds } = await timed(() =>
      runWorkers(concurrency, async () => {
        while (next < FLASH_ATTEMPTS) {
          const orderId = `flash-order-${next++}`;
          const now = new Date();
          const input = { sku: SKU, orderId, quantity: 1, expiresAt: new Date(now.getTime() + HOLD_MS).toISOString() };
          try {
            await latencies.time(() => commerce.reserveStock(input, { actor: 'bench', now: now.toISOString() }));
            outcome.reserved++;
          } catch (error) {
            if (isKeelError(error) && error.code === 'KEEL_ERR_OUT_OF_STOCK') outcome.outOfStock++;
            else if (outcome.errors++ < 3) outcome.firstErrors.push(error instanceof Error ? error.message : String(error));
          }
        }
      }),
    );
    const stats = delta(handler.stats(), before);
    const state = await foldStream(store);
    const held = state.status === 'tracked' ? state.reserved + state.sold : 0;
    const received = state.status === 'tracked' ? state.received : 0;
    const oversold = Math.max(0, held - received);
    const ok = oversold === 0 && outcome.reserved === FLASH_UNITS && held === FLASH_UNITS && outcome.errors === 0;
    return [
      {
        workload: 'flash hot-stream reservations',
        ops: FLASH_ATTEMPTS,
        rate: round(outcome.reserved / seconds),
        rateUnit: 'reservations/s',
        seconds: round(seconds),
        latencyMs: latencies.summary(),
        eventsAppended: 3 + outcome.reserved,
        notes:
          `${outcome.reserved} reserved, ${outcome.outOfStock} OUT_OF_STOCK, ${outcome.errors} errors; ` +
          `${stats.appends} appends/${stats.batches} batches/${stats.conflicts} conflicts; oversold ${oversold}${ok ? '' : ' CHECK FAILED'}`,
        details: { ...outcome, handler: stats, stored: { received, reservedPlusSold: held }, oversold, ok, attemptsPerSec: round(FLASH_ATTEMPTS / seconds) },
      },
    ];
  },
};
