/**
 * The projector's workloads, each on a database of its own (so the log holds exactly the commerce
 * history it seeds):
 * - rebuild20k / rebuild1m: seed a history of 20,000 / 1,000,000 events, then rebuild every read
 *   model blue/green from position zero, one after the other; the rate is events applied per second.
 * - live: every read model runs live (as `npm start` runs them) while 16 writers place orders;
 *   the lag of each append is the time until the `orders` projection committed a batch at or past
 *   its position.
 */
import { migrateProjections, rebuildProjection, startProjections } from '../../src/projections/engine/index.js';
import type { BatchInfo } from '../../src/projections/engine/index.js';
import { readModels } from '../../src/projections/read-models/index.js';
import { itemsOf, Latencies, round, runWorkers, timed } from '../load.js';
import type { WorkloadResult } from '../load.js';
import { appendOrder, EVENTS_PER_ORDER, PRODUCTS, seedCatalog, seedCommerceHistory } from './commerce-history.js';
import type { Workload } from './workload.js';

const quiet = { info: () => {}, warn: () => {}, error: (obj: object, msg?: string) => console.error(msg, obj) };

const rebuild = (id: string, events: number): Workload => ({
  id,
  title: `rebuild every read model over ${events.toLocaleString('en')} events`,
  settings: { events, products: PRODUCTS, eventsPerOrder: EVENTS_PER_ORDER, readModels: readModels.map((p) => p.name) },
  async run({ concurrency, openFresh }) {
    const env = await openFresh(`keel_bench_${id}`);
    try {
      const seeded = await timed(() => seedCommerceHistory(env.store, events, concurrency));
      const rows: WorkloadResult[] = [
        {
          workload: `${id} seed`,
          ops: seeded.value,
          rate: round(seeded.value / seeded.seconds),
          rateUnit: 'events/s',
          seconds: round(seeded.seconds),
          eventsAppended: seeded.value,
          notes: `${concurrency} writers, appends of 1-2 events (not the projector)`,
          details: {},
        },
      ];
      await migrateProjections(env.handle);
      let applied = 0;
      let seconds = 0;
      for (const projection of readModels) {
        const result = await rebuildProjection({ handle: env.handle, store: env.store, projection });
        applied += result.events;
        seconds += result.seconds;
        rows.push({
          workload: `${id} ${projection.name}`,
          ops: result.events,
          rate: round(result.events / result.seconds),
          rateUnit: 'events/s',
          seconds: round(result.seconds),
          eventsAppended: 0,
          notes: `${result.events} of ${seeded.value} events match; parked ${result.parked}; tables ${result.tables.map((t) => `${t.table}=${t.build}`).join(' ')}`,
          details: { generation: result.generation, tables: result.tables },
        });
      }
      rows.push({
        workload: `${id} all read models`,
        ops: applied,
        rate: round(applied / seconds),
        rateUnit: 'events/s',
        seconds: round(seconds),
        eventsAppended: 0,
        notes: `${readModels.length} rebuilds in sequence`,
        details: {},
      });
      return rows;
    } finally {
      await env.close();
    }
  },
});

export const rebuild20k = rebuild('rebuild20k', 20_000);
export const rebuild1m = rebuild('rebuild1m', 1_000_000);

const LIVE_ORDERS = 5_000;

/** For each append (position, time): the time until the first committed batch at or past its position. */
const lagsOf = (appends: readonly (readonly [bigint, number])[], batches: readonly (readonly [bigint, number])[]): Latencies => {
  const lags = new Latencies();
  const sorted = [...appends].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let b = 0;
  for (const [position, appendedAt] of sorted) {
    while (b < batches.length && (batches[b]?.[0] ?? -1n) < position) b++;
    const batch = batches[b];
    if (batch) lags.record(batch[1] - appendedAt);
  }
  return lags;
};

export const liveLag: Workload = {
  id: 'live',
  title: `live lag of every read model while ${16} writers place ${LIVE_ORDERS.toLocaleString('en')} orders`,
  settings: { orders: LIVE_ORDERS, eventsPerOrder: EVENTS_PER_ORDER, readModels: readModels.map((p) => p.name), lagOf: 'orders' },
  async run({ concurrency, openFresh }) {
    const env = await openFresh('keel_bench_live');
    const batches: (readonly [bigint, number])[] = [];
    const onBatch = (info: BatchInfo): void => {
      if (info.name === 'orders' && info.events > 0) batches.push([info.position, Date.now()]);
    };
    const projections = await startProjections({ handle: env.handle, store: env.store, projections: readModels, logger: quiet, onBatch });
    const names = readModels.map((p) => p.name);
    try {
      await seedCatalog(env.store, concurrency);
      await projections.waitFor(names, await env.store.headPosition(), { timeoutMs: 60_000 });
      const appends: (readonly [bigint, number])[] = [];
      let last = -1n;
      const written = await timed(() =>
        runWorkers(concurrency, async (worker) => {
          for (const n of itemsOf(worker, concurrency, LIVE_ORDERS)) {
            await appendOrder(env.store, n, (position) => {
              appends.push([position, Date.now()]);
              if (position > last) last = position;
            });
          }
        }),
      );
      const writesEnded = Date.now();
      await projections.waitFor(names, last, { timeoutMs: 120_000 });
      const drained = (Date.now() - writesEnded) / 1000;
      const events = LIVE_ORDERS * EVENTS_PER_ORDER;
      const lags = lagsOf(appends, batches);
      return [
        {
          workload: 'live orders lag',
          ops: events,
          rate: round(events / written.seconds),
          rateUnit: 'events/s',
          seconds: round(written.seconds),
          latencyMs: lags.summary(),
          eventsAppended: events,
          notes: `write rate while projecting; latency = append → orders batch committed; all ${names.length} read models current ${round(drained)} s after the last write`,
          details: { batches: batches.length, drainedSeconds: drained },
        },
      ];
    } finally {
      await projections.stop();
      await env.close();
    }
  },
};
