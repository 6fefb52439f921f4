/**
 * read: catch-up reading of the whole log from position zero, twice: readAll (paged reads) and
 * subscribe (catch-up until the first 'caught-up'). When earlier workloads left fewer than
 * MIN_LOG events (e.g. `--only read`), it first appends enough to reach MIN_LOG (not timed).
 */
import type { EventStore } from '../../src/eventstore/port.js';
import { itemsOf, round, runWorkers, timed } from '../load.js';
import type { WorkloadResult } from '../load.js';
import { benchEvent } from './bench-events.js';
import type { Workload } from './workload.js';

const MIN_LOG = 20_000;
const SEED_PER_APPEND = 10;

const seed = async (store: EventStore, events: number, concurrency: number): Promise<void> => {
  const appends = events / SEED_PER_APPEND;
  await runWorkers(concurrency, async (worker) => {
    for (const s of itemsOf(worker, concurrency, appends)) {
      const stream = `bench-read-seed-${s}`;
      await store.append(stream, Array.from({ length: SEED_PER_APPEND }, (_, i) => benchEvent(stream, i)));
    }
  });
};

const readAllCount = async (store: EventStore): Promise<number> => {
  let count = 0;
  for await (const _ of store.readAll()) count++;
  return count;
};

const subscribeCount = async (store: EventStore): Promise<number> => {
  const stop = new AbortController();
  let count = 0;
  for await (const message of store.subscribe({ signal: stop.signal })) {
    if (message.kind === 'event') count++;
    else if (message.kind === 'caught-up') break;
  }
  stop.abort();
  return count;
};

const row = (workload: string, events: number, seconds: number, notes: string, eventsAppended = 0): WorkloadResult => ({
  workload,
  ops: events,
  rate: round(events / seconds),
  rateUnit: 'events/s',
  seconds: round(seconds),
  eventsAppended,
  notes,
  details: {},
});

export const catchUpRead: Workload = {
  id: 'read',
  title: 'catch-up reading from zero',
  settings: { minLogEvents: MIN_LOG, readAll: 'default page size', subscribe: 'default batch size, until first caught-up' },
  async run({ store, concurrency, eventsInLog }) {
    const missing = Math.max(0, MIN_LOG - eventsInLog);
    const seeded = Math.ceil(missing / SEED_PER_APPEND) * SEED_PER_APPEND;
    if (seeded > 0) await seed(store, seeded, concurrency);
    const seedNote = seeded > 0 ? `; seeded ${seeded} events first` : '';
    const all = await timed(() => readAllCount(store));
    const live = await timed(() => subscribeCount(store));
    const same = all.value === live.value ? '' : ` (readAll saw ${all.value}: MISMATCH)`;
    return [
      row('read readAll from zero', all.value, all.seconds, `whole log${seedNote}`, seeded),
      row('read subscribe from zero', live.value, live.seconds, `until first caught-up${same}`),
    ];
  },
};
