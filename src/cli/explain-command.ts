/**
 * `keel explain order <id>` / `keel explain <stream>`: the whole story across streams (the order,
 * its reservations in the inventory streams, its payment, the process manager's reactions) as a
 * causation tree or, with `--timeline`, a table in position order, ending with the one line that
 * says why the subject is in its state. Read through the event index; when the index lags (or never
 * ran) the rest of the log is scanned, and a warning on stderr says so. Read-only.
 */
import { Command } from 'commander';
import { createEventIndex } from '../projections/read-models/index.js';
import { DEFAULT_STREAM_EVENTS, explainOrder, explainStream, streamKindOf } from '../replay/index.js';
import { EXIT_OK, type CommandContext } from './projections-context.js';
import { print, runReplayCommand, usage, usageExit, warnAboutIndex } from './replay-command.js';
import { colourFor, storyJson, storyText } from './replay-format.js';

interface ExplainFlags {
  readonly timeline?: boolean;
  readonly json?: boolean;
  readonly last?: string;
}

type ExplainPlan = { readonly kind: 'order'; readonly orderId: string } | { readonly kind: 'stream'; readonly streamId: string; readonly last: number };

export const parseExplainArgs = (target: string, id: string | undefined, flags: ExplainFlags): ExplainPlan => {
  if (flags.timeline === true && flags.json === true) throw usage('--timeline and --json exclude each other (the JSON holds both the events in order and the tree).');
  if (target === 'order') {
    if (id === undefined) throw usage('Which order? keel explain order <id>');
    if (flags.last !== undefined) throw usage('--last goes with keel explain <stream>; an order\'s story is always whole.');
    return { kind: 'order', orderId: id };
  }
  if (id !== undefined) throw usage(`keel explain takes "order <id>" or one stream id, not "${target} ${id}".`);
  streamKindOf(target);
  if (flags.last !== undefined && !/^[1-9]\d*$/.test(flags.last.trim())) throw usage(`--last takes a whole number from 1: "${flags.last}" is not one.`);
  return { kind: 'stream', streamId: target, last: flags.last === undefined ? DEFAULT_STREAM_EVENTS : Number(flags.last) };
};

const runExplain = async (context: CommandContext, plan: ExplainPlan, flags: ExplainFlags, env: NodeJS.ProcessEnv): Promise<number> => {
  const index = createEventIndex(context.handle.db);
  const story = plan.kind === 'order' ? await explainOrder(context.store, index, plan.orderId) : await explainStream(context.store, index, plan.streamId, plan.last);
  warnAboutIndex(story);
  await print(
    flags.json === true
      ? `${JSON.stringify(storyJson(story), null, 2)}\n`
      : `${storyText(story, { timeline: flags.timeline === true, colour: colourFor(process.stdout, env) })}\n`,
  );
  return EXIT_OK;
};

export const explainCommand = (env: NodeJS.ProcessEnv): Command =>
  usageExit(
    new Command('explain')
      .description('tell the story of an order (keel explain order <id>) or a stream (keel explain <stream>) across streams, as a causation tree, ending with why it is in its state (read-only)')
      .argument('<target>', '"order" followed by the order id, or a stream id, e.g. inventory-SKU-1')
      .argument('[id]', 'the order id, after "order"')
      .option('--timeline', 'a flat table in position order instead of the causation tree')
      .option('--json', 'print the whole story as JSON')
      .option('--last <n>', `for a stream: start from its latest n events (default ${DEFAULT_STREAM_EVENTS})`)
      .action((target: string, id: string | undefined, flags: ExplainFlags) =>
        runReplayCommand(env, () => parseExplainArgs(target, id, flags), (context, plan) => runExplain(context, plan, flags, env)),
      ),
  );
