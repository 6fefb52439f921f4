/**
 * `keel projections …`: list, status, pause, resume, parked, retry, skip, rebuild, drop-old, trace, diff.
 * Exit codes: 0 ok, 1 failure (the message says what to do next), 2 usage error.
 */
import { Command } from 'commander';
import type { Projection } from '../projections/projection.js';
import { CommandExit, EXIT_FAILURE, EXIT_USAGE, runCommand } from './projections-context.js';
import { listJson, listText, parkedJson, parkedText, statusJson, statusText } from './projections-format.js';
import { runDiff, runTrace, type LineageFlags } from './projections-lineage.js';
import { runRebuild, type RebuildFlags } from './projections-rebuild.js';

const usageExit = (command: Command): Command =>
  command.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE));

const engine = () => import('../projections/engine/index.js');

export const projectionsCommand = (env: NodeJS.ProcessEnv, projections: readonly Projection[]): Command => {
  const root = usageExit(new Command('projections').description('inspect and operate the read-model projections').showHelpAfterError());
  const sub = (name: string, description: string) => usageExit(root.command(name).description(description));
  const run = (work: Parameters<typeof runCommand>[2]) => runCommand(env, projections, work);

  sub('list', 'list the projections this build knows')
    .option('--json', 'print JSON (with event types and tables)')
    .action((options: { json?: boolean }) => {
      process.stdout.write(options.json === true ? `${JSON.stringify(listJson(projections), null, 2)}\n` : `${listText(projections)}\n`);
    });

  sub('status', 'position, lag (events and seconds), state and parked count of each projection')
    .argument('[name]', 'only this projection')
    .option('--json', 'print JSON')
    .action((name: string | undefined, options: { json?: boolean }) =>
      run(async (context) => {
        const selected = name === undefined ? projections : [context.projection(name)];
        const statuses = await (await engine()).projectionStatuses(context.handle, context.store, selected);
        process.stdout.write(options.json === true ? `${JSON.stringify(statuses.map(statusJson), null, 2)}\n` : `${statusText(statuses)}\n`);
      }),
    );

  for (const state of ['pause', 'resume'] as const) {
    sub(state, state === 'pause' ? 'stop applying events (reads keep serving the tables as they are)' : 'apply events again after a pause')
      .argument('<name>')
      .action((name: string) =>
        run(async (context) => {
          const projection = context.projection(name);
          const { setState, readControl } = await engine();
          if (!(await setState(context.handle.db, projection.name, state === 'pause' ? 'paused' : 'running'))) {
            throw new CommandExit(EXIT_FAILURE, `${name} has never run, so there is nothing to ${state}: start a projector first (keel serve --role projector).`);
          }
          const position = (await readControl(context.handle.db, projection.name))?.position ?? -1n;
          process.stdout.write(
            state === 'pause'
              ? `Paused ${name} at position ${position}. Reads keep serving its tables as of that position. Resume with: keel projections resume ${name}\n`
              : `Resumed ${name} from position ${position}; its projector picks it up within a second or two.\n`,
          );
        }),
      );
  }

  sub('parked', 'list the events parked (failing) or waiting behind them')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action((name: string, options: { json?: boolean }) =>
      run(async (context) => {
        const projection = context.projection(name);
        const { listParked, readControl } = await engine();
        const generation = (await readControl(context.handle.db, projection.name))?.generation;
        const parked = generation === undefined ? [] : await listParked(context.handle.db, projection.name, generation);
        process.stdout.write(options.json === true ? `${JSON.stringify(parked.map(parkedJson), null, 2)}\n` : `${parkedText(name, parked)}\n`);
      }),
    );

  for (const action of ['retry', 'skip'] as const) {
    sub(action, action === 'retry' ? 're-apply parked events (then the events of their key waiting behind them)' : 'give up on parked events and release the events waiting behind them')
      .argument('<name>')
      .option('--id <id>', 'the parked event (see `keel projections parked <name>`)')
      .option('--all', 'every parked event, in position order')
      .action((name: string, options: { id?: string; all?: boolean }) =>
        run(async (context) => {
          const projection = context.projection(name);
          if ((options.id === undefined) === (options.all !== true)) throw new CommandExit(EXIT_USAGE, `Say which parked events to ${action}: --id <id> or --all (see: keel projections parked ${name}).`);
          if (options.id !== undefined && !/^\d+$/.test(options.id)) throw new CommandExit(EXIT_USAGE, `--id must be a number from \`keel projections parked ${name}\`, not "${options.id}".`);
          const { retryParked, skipParked } = await engine();
          const results = await (action === 'retry' ? retryParked : skipParked)(context.handle, projection, { id: options.id, all: options.all });
          if (results.length === 0) process.stdout.write(`No parked events in ${name}.\n`);
          let failed = 0;
          for (const r of results) {
            if (r.outcome === 'failed') {
              failed += 1;
              process.stdout.write(`Parked event ${r.id} (key ${r.key}) failed again: ${r.error ?? ''}. It stays parked; ${r.stillBlocked} event(s) of ${r.key} still wait behind it.\n`);
            } else {
              const behind = r.stillBlocked > 0 ? `; a later event of ${r.key} failed and is now parked, ${r.stillBlocked} wait behind it` : '';
              process.stdout.write(`${r.outcome === 'applied' ? 'Applied' : 'Skipped'} parked event ${r.id} (key ${r.key}); ${r.released} waiting event(s) of ${r.key} applied${behind}.\n`);
            }
          }
          if (failed > 0) {
            process.stderr.write(`${failed} parked event(s) still fail. Fix the cause and retry, or give up on them: keel projections skip ${name} --id <id>\n`);
            return EXIT_FAILURE;
          }
          return undefined;
        }),
      );
  }

  sub('rebuild', 'rebuild blue/green: build the next generation from position zero while the current one serves, verify, swap')
    .argument('<name>')
    .option('--drop-old', 'after the swap, drop the kept previous generations')
    .option('--accept-count-mismatch', 'swap even if row counts differ from the live tables (repairing a drifted model)')
    .option('--json', 'JSON lines instead of a progress bar')
    .action((name: string, options: RebuildFlags) => run((context) => runRebuild(context, name, options)));

  sub('drop-old', 'drop the previous generations a rebuild kept')
    .argument('<name>')
    .action((name: string) =>
      run(async (context) => {
        const projection = context.projection(name);
        const dropped = await (await engine()).dropOldGenerations(context.handle, projection.name);
        process.stdout.write(dropped.length === 0 ? `No old generations of ${name} to drop.\n` : `Dropped ${dropped.join(', ')}.\n`);
      }),
    );

  sub('trace', 'the events that wrote the rows of a key (an order id, a SKU, …), oldest first')
    .argument('<name>')
    .argument('<key>')
    .option('--json', 'print JSON (an array of events)')
    .action((name: string, key: string, options: LineageFlags) => run((context) => runTrace(context, name, key, options)));

  sub('diff', 'rebuild the rows of a key from the log in a scratch schema and compare them with the live rows (exit 1 on drift)')
    .argument('<name>')
    .argument('<key>')
    .option('--json', 'print JSON')
    .action((name: string, key: string, options: LineageFlags) => run((context) => runDiff(context, name, key, options)));

  return root;
};
