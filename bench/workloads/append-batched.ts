/** a2: appends of 10 events, one append per stream, each writer owning its streams. */
import { itemsOf, Latencies, round, runWorkers, timed } from '../load.js';
import { benchEvent } from './bench-events.js';
import type { Workload } from './workload.js';

const EVENTS = 20_000;
const PER_APPEND = 10;

export const appendBatched: Workload = {
  id: 'a2',
  title: '10-event appends',
  settings: { events: EVENTS, eventsPerAppend: PER_APPEND, streams: EVENTS / PER_APPEND, expectedRevision: 'no_stream' },
  async run({ store, concurrency }) {
    const latencies = new Latencies();
    const appends = EVENTS / PER_APPEND;
    const { seconds } = await timed(() =>
      runWorkers(concurrency, async (worker) => {
        for (const s of itemsOf(worker, concurrency, appends)) {
          const stream = `bench-a2-${s}`;
          const events = Array.from({ length: PER_APPEND }, (_, i) => benchEvent(stream, i));
          await latencies.time(() => store.append(stream, events, { expectedRevision: 'no_stream' }));
        }
      }),
    );
    return [
      {
        workload: 'a2 10-event appends',
        ops: appends,
        rate: round(EVENTS / seconds),
        rateUnit: 'events/s',
        seconds: round(seconds),
        latencyMs: latencies.summary(),
        eventsAppended: EVENTS,
        notes: `${appends} appends of ${PER_APPEND} (${round(appends / seconds)} appends/s)`,
        details: { appendsPerSec: round(appends / seconds) },
      },
    ];
  },
};
