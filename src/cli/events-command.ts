/**
 * `keel events <stream>` / `keel events --all [filters]`: the recorded events with where they sit
 * (position, stream, revision), when, why (actor, command, correlation and causation ids) and their
 * data; a table on a terminal, `--json` (one array) or `--ndjson` (one event per line) for scripts.
 * `--follow` then tails live events until Ctrl-C (exit 0). Read-only.
 */
import { Command } from 'commander';
import { createEventIndex } from '../projections/read-models/index.js';
import { eventJson, listEvents, parseBound, type EventQuery, type EventView } from '../replay/index.js';
import { EXIT_OK, type CommandContext } from './projections-context.js';
import { print, runReplayCommand, usage, usageExit } from './replay-command.js';
import { eventLine, eventNdjson, eventsTable, TERMINAL_DATA_WIDTH } from './replay-format.js';

interface EventsFlags {
  readonly all?: boolean;
  readonly type: readonly string[];
  readonly streamPrefix?: string;
  readonly correlation?: string;
  readonly since?: string;
  readonly until?: string;
  readonly follow?: boolean;
  readonly limit?: string;
  readonly json?: boolean;
  readonly ndjson?: boolean;
}

type Output = 'table' | 'json' | 'ndjson';

interface EventsPlan {
  readonly query: Omit<EventQuery, 'signal'>;
  readonly limit?: number;
  readonly output: Output;
}

/** `--type A --type B,C` → [A, B, C]. */
const collectTypes = (value: string, previous: readonly string[]): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0),
];

export const parseEventsFlags = (stream: string | undefined, flags: EventsFlags): EventsPlan => {
  if ((stream === undefined) === (flags.all !== true)) {
    throw usage(stream === undefined ? 'Say which events: keel events <stream>, or keel events --all [--type T] [--stream-prefix P] [--correlation ID].' : `Give a stream or --all, not both ("${stream}" and --all).`);
  }
  if (flags.json === true && flags.ndjson === true) throw usage('--json and --ndjson exclude each other.');
  if (flags.follow === true && flags.json === true) throw usage('--follow never ends, so it cannot close a JSON array: use --ndjson (one event per line).');
  if (flags.limit !== undefined && !/^[1-9]\d*$/.test(flags.limit.trim())) throw usage(`--limit takes a whole number from 1: "${flags.limit}" is not one.`);
  const query: Omit<EventQuery, 'signal'> = {
    ...(stream === undefined ? {} : { stream }),
    ...(flags.type.length === 0 ? {} : { types: flags.type }),
    ...(flags.streamPrefix === undefined ? {} : { streamPrefix: flags.streamPrefix }),
    ...(flags.correlation === undefined ? {} : { correlationId: flags.correlation }),
    ...(flags.since === undefined ? {} : { since: parseBound(flags.since, '--since') }),
    ...(flags.until === undefined ? {} : { until: parseBound(flags.until, '--until') }),
    ...(flags.follow === true ? { follow: true } : {}),
  };
  return { query, output: flags.json === true ? 'json' : flags.ndjson === true ? 'ndjson' : 'table', ...(flags.limit === undefined ? {} : { limit: Number(flags.limit) }) };
};

const runEvents = async (context: CommandContext, plan: EventsPlan): Promise<number> => {
  const follow = plan.query.follow === true;
  const controller = new AbortController();
  const interrupt = (): void => controller.abort();
  if (follow) {
    // Ctrl-C ends the tail, and the command, cleanly (exit 0).
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
  }
  const dataWidth = process.stdout.isTTY ? TERMINAL_DATA_WIDTH : undefined;
  const width = dataWidth === undefined ? {} : { dataWidth };
  const needsIndex = plan.query.stream === undefined && plan.query.correlationId !== undefined;
  const rows: EventView[] = [];
  let count = 0;
  try {
    if (plan.output === 'json') await print('[');
    const events = listEvents(context.store, { ...plan.query, signal: controller.signal }, needsIndex ? createEventIndex(context.handle.db) : undefined);
    for await (const event of events) {
      if (plan.output === 'json') await print(`${count === 0 ? '\n' : ',\n'}${JSON.stringify(eventJson(event))}`);
      else if (plan.output === 'ndjson') await print(`${eventNdjson(event)}\n`);
      // Live events cannot wait for a table to be aligned: one line each.
      else if (follow) await print(`${eventLine(event, width)}\n`);
      else rows.push(event);
      count += 1;
      if (plan.limit !== undefined && count >= plan.limit) break;
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
  if (plan.output === 'json') await print(count === 0 ? ']\n' : '\n]\n');
  if (plan.output === 'table' && !follow) await print(rows.length === 0 ? 'No events match.\n' : `${eventsTable(rows, width)}\n`);
  return EXIT_OK;
};

export const eventsCommand = (env: NodeJS.ProcessEnv): Command =>
  usageExit(
    new Command('events')
      .description('list recorded events: one stream, or the whole log (--all) filtered; --follow tails live events until Ctrl-C (read-only)')
      .argument('[stream]', 'the stream id, e.g. order-o-17 (or --all)')
      .option('--all', 'the whole log, in position order')
      .option('--type <type>', 'only events of this type (repeat it, or separate types with commas)', collectTypes, [] as string[])
      .option('--stream-prefix <prefix>', 'only streams whose id starts with this, e.g. order-')
      .option('--correlation <id>', 'only events of this correlation id: the whole causal chain of one command (read through the event index)')
      .option('--since <time|position>', 'from this ISO-8601 time or position of the log (inclusive)')
      .option('--until <time|position>', 'up to this ISO-8601 time or position of the log (inclusive)')
      .option('--follow', 'after the history, tail live events until Ctrl-C (best with --ndjson)')
      .option('--limit <n>', 'at most this many events')
      .option('--json', 'print one JSON array')
      .option('--ndjson', 'print one JSON event per line')
      .action((stream: string | undefined, flags: EventsFlags) => runReplayCommand(env, () => parseEventsFlags(stream, flags), runEvents)),
  );
