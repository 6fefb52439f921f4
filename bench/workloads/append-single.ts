/** a1: single-event appends, each writer owning its streams (no two writers share a stream). */
import { itemsOf, Latencies, round, runWorkers, timed } from '../load.js';
import { benchEvent } from './bench-events.js';
import type { Workload } from './workload.js';

const EVENTS = 20_000;
const STREAMS = 2_000;

export const appendSingle: Workload = {
  id: 'a1',
  title: 'single-event appends',
  settings: { events: EVENTS, streams: STREAMS, eventsPerAppend: 1, expectedRevision: 'any' },
  async run({ store, concurrency }) {
    const latencies = new Latencies();
    const rounds = EVENTS / STREAMS;
    const { seconds } = await timed(() =>
      runWorkers(concurrency, async (worker) => {
        const streams = itemsOf(worker, concurrency, STREAMS).map((s) => `bench-a1-${s}`);
        for (let index = 0; index < rounds; index++) {
          for (const stream of streams) {
            await latencies.time(() => store.append(stream, [benchEvent(stream, index)], { expectedRevision: 'any' }));
          }
        }
      }),
    );
    return [
      {
        workload: 'a1 single-event appends',
        ops: EVENTS,
        rate: round(EVENTS / seconds),
        rateUnit: 'events/s',
        seconds: round(seconds),
        latencyMs: latencies.summary(),
        eventsAppended: EVENTS,
        notes: `${STREAMS} streams x ${rounds} appends`,
        details: {},
      },
    ];
  },
};
