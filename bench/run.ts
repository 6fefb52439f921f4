/**
 * Keel's own benchmarks: `npm run bench [-- --only a1,a2,b,flash,read] [-- --embedded]`.
 *
 * Setup (./setup.ts) opens a fresh database, the workloads (./workloads/) drive the event store
 * and the command handler with CONCURRENCY writers, and the report (./report.ts) prints a table
 * and writes bench/results/<timestamp>.json.
 */
import { parseArgs } from 'node:util';
import { defaultBackoff } from '../src/commands/handler/retry.js';
import { DEFAULT_BATCHER_LIMITS } from '../src/eventstore/postgres/index.js';
import type { WorkloadResult } from './load.js';
import { formatTable, machine, versions, writeReport } from './report.js';
import { openBenchEnvironment, POOL_SIZE } from './setup.js';
import { appendBatched } from './workloads/append-batched.js';
import { appendSingle } from './workloads/append-single.js';
import { catalogCommands } from './workloads/catalog-commands.js';
import { catchUpRead } from './workloads/catch-up-read.js';
import { flashSale } from './workloads/flash-sale.js';
import { apiWorkload } from './workloads/api.js';
import { liveLag, rebuild1m, rebuild20k } from './workloads/projections.js';
import { explain1m, replay1m } from './workloads/replay.js';
import { startupWorkload } from './startup.js';
import type { Workload } from './workloads/workload.js';

const CONCURRENCY = 16;
const WORKLOADS: readonly Workload[] = [appendSingle, appendBatched, catalogCommands, flashSale, catchUpRead, rebuild20k, rebuild1m, liveLag, apiWorkload, replay1m, explain1m, startupWorkload];

const usage = `usage: npm run bench [-- --only ${WORKLOADS.map((w) => w.id).join(',')}] [-- --embedded]`;

const parseOptions = (): { readonly selected: readonly Workload[]; readonly embedded: boolean } => {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, embedded: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const ids = values.only?.split(',').map((id) => id.trim()).filter((id) => id.length > 0);
  const unknown = ids?.filter((id) => !WORKLOADS.some((w) => w.id === id)) ?? [];
  if (unknown.length > 0 || ids?.length === 0) {
    console.error(`Unknown workload(s): ${unknown.join(', ') || '(none given)'}\n${usage}`);
    process.exit(2);
  }
  return { selected: ids ? WORKLOADS.filter((w) => ids.includes(w.id)) : WORKLOADS, embedded: values.embedded };
};

const main = async (): Promise<void> => {
  const { selected, embedded } = parseOptions();
  const startedAt = new Date().toISOString();
  const atStart = machine();
  const env = await openBenchEnvironment({ embedded });
  console.log(`keel bench on ${env.kind} (${env.location}), ${CONCURRENCY} concurrent writers\n${env.serverVersion}\n`);
  const results: WorkloadResult[] = [];
  let eventsInLog = 0;
  try {
    for (const workload of selected) {
      process.stdout.write(`running ${workload.id}: ${workload.title} ... `);
      const openFresh = (database: string) => openBenchEnvironment({ embedded, database });
      const rows = await workload.run({ store: env.store, concurrency: CONCURRENCY, eventsInLog, openFresh });
      for (const row of rows) eventsInLog += row.eventsAppended;
      results.push(...rows);
      console.log(rows.map((r) => `${Math.round(r.rate)} ${r.rateUnit}`).join(', '));
    }
  } finally {
    await env.close();
  }
  console.log(`\n${formatTable(results)}\n`);
  const file = await writeReport({
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: atStart,
    versions: versions(env.serverVersion),
    settings: {
      database: env.kind,
      location: env.location,
      poolSize: env.kind === 'postgres' ? POOL_SIZE : 'one PGlite session',
      concurrency: CONCURRENCY,
      appendBatching: DEFAULT_BATCHER_LIMITS,
      commandHandlerBackoff: defaultBackoff,
      workloads: Object.fromEntries(selected.map((w) => [w.id, { title: w.title, ...w.settings }])),
    },
    results,
  });
  console.log(`results written to ${file}`);
};

await main();
