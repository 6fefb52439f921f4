/**
 * b: command handling through Keel's commerce commands. Each product goes through listProduct
 * (which first tracks its SKU on the inventory stream, then lists it), changePrice and
 * delistProduct, one after the other; products are split among the writers.
 */
import { createCommandHandler } from '../../src/commands/handler/command-handler.js';
import { createCommerceCommands } from '../../src/commands/front-door.js';
import type { RequestContext } from '../../src/commands/front-door.js';
import { itemsOf, Latencies, round, runWorkers, timed } from '../load.js';
import type { Workload } from './workload.js';

const PRODUCTS = 2_000;
const COMMANDS_PER_PRODUCT = 3;
/** listProduct writes SkuTracked and ProductListed; changePrice and delistProduct one event each. */
const EVENTS_PER_PRODUCT = 4;

const request = (): RequestContext => ({ actor: 'bench', now: new Date().toISOString() });

export const catalogCommands: Workload = {
  id: 'b',
  title: 'command handling (catalog)',
  settings: { products: PRODUCTS, commands: ['listProduct', 'changePrice', 'delistProduct'], handler: 'createCommandHandler defaults' },
  async run({ store, concurrency }) {
    const handler = createCommandHandler(store);
    const commerce = createCommerceCommands(handler);
    const latencies = new Latencies();
    const errors: string[] = [];
    const { seconds } = await timed(() =>
      runWorkers(concurrency, async (worker) => {
        for (const p of itemsOf(worker, concurrency, PRODUCTS)) {
          const productId = `bench-product-${p}`;
          try {
            const listing = { productId, sku: `BENCH-SKU-${p}`, name: `Product ${p}`, price: 1_000, currency: 'EUR' };
            await latencies.time(() => commerce.listProduct(listing, request()));
            await latencies.time(() => commerce.changePrice({ productId, price: 1_250 }, request()));
            await latencies.time(() => commerce.delistProduct({ productId, reason: 'benchmark' }, request()));
          } catch (error) {
            errors.push(error instanceof Error ? error.message : String(error));
          }
        }
      }),
    );
    const commands = PRODUCTS * COMMANDS_PER_PRODUCT;
    const stats = handler.stats();
    return [
      {
        workload: 'b catalog commands',
        ops: commands,
        rate: round(commands / seconds),
        rateUnit: 'commands/s',
        seconds: round(seconds),
        latencyMs: latencies.summary(),
        eventsAppended: PRODUCTS * EVENTS_PER_PRODUCT,
        notes: `${PRODUCTS} products x 3; ${stats.appends} appends, ${stats.conflicts} conflicts, ${errors.length} errors`,
        details: { handler: stats, errors: errors.length, firstErrors: errors.slice(0, 3) },
      },
    ];
  },
};
