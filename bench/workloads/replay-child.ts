/**
 * One replay in a process of its own, so its peak RSS is the replay's alone:
 *
 *   node --import tsx bench/workloads/replay-child.ts <database-url> <stream> <events|all> [fold|diffs]
 *
 * Replays the stream's first <events> events (`toRevision`), or all of it, with `replayStream`:
 * `fold` without `onStep` (only the decider's fold runs), `diffs` with an `onStep` that drops each
 * step (the per-event state and diff `keel replay` prints). Prints one JSON line: events folded,
 * seconds of the replay alone (not the process start) and this process's CPU time in them,
 * `process.resourceUsage().maxRSS` (KiB) and the heap in use at the end.
 */
import { openEventStore } from '../../src/eventstore/open.js';
import { openDatabase } from '../../src/platform/database.js';
import { replayStream } from '../../src/replay/index.js';
import type { ReplayOptions } from '../../src/replay/index.js';

const [url, streamId, count = 'all', mode = 'fold'] = process.argv.slice(2);
if (url === undefined || streamId === undefined || (mode !== 'fold' && mode !== 'diffs') || (count !== 'all' && !/^\d+$/.test(count))) {
  console.error('usage: replay-child.ts <database-url> <stream> <events|all> [fold|diffs]');
  process.exit(2);
}

const handle = await openDatabase({ databaseUrl: url, dataDir: '', poolSize: 2 });
const store = await openEventStore(handle);
try {
  let steps = 0;
  const options: ReplayOptions = {
    ...(count === 'all' ? {} : { toRevision: BigInt(count) - 1n }),
    ...(mode === 'diffs' ? { onStep: () => void (steps += 1) } : {}),
  };
  const rssBefore = process.memoryUsage().rss;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const outcome = await replayStream(store, streamId, options);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const usage = process.resourceUsage();
  console.log(
    JSON.stringify({
      events: outcome.events,
      steps,
      revision: outcome.revision.toString(),
      lastRevision: outcome.lastRevision.toString(),
      stop: outcome.stop.reason,
      seconds,
      /** CPU time of this process during the replay (PostgreSQL's own is not in it). */
      replayCpuSeconds: (cpu.user + cpu.system) / 1e6,
      maxRssKiB: usage.maxRSS,
      rssBeforeKiB: Math.round(rssBefore / 1024),
      heapUsedKiB: Math.round(process.memoryUsage().heapUsed / 1024),
      userCpuSeconds: usage.userCPUTime / 1e6,
      systemCpuSeconds: usage.systemCPUTime / 1e6,
    }),
  );
} finally {
  await store.close();
  await handle.close();
}
