/** The `keel` command line. Each subcommand loads the configuration itself, so `--help` needs none. */
import { Command, Option } from 'commander';
import type { Projection } from '../projections/projection.js';
import { readModels } from '../projections/read-models/index.js';
import { loadConfig } from '../platform/config.js';
import { formatConfig } from './config-command.js';
import { eventsCommand } from './events-command.js';
import { exitOnStartupError } from './exit.js';
import { explainCommand } from './explain-command.js';
import { projectionsCommand } from './projections-command.js';
import { replayCommand } from './replay-command.js';
import { registerTokenCommand } from './token-command.js';

export interface ProgramOptions {
  /** The projections `keel projections …` operates on (default: every read model of this build). */
  readonly projections?: readonly Projection[];
}

export const SERVE_ROLES = ['all', 'api', 'projector'] as const;

export const buildProgram = (env: NodeJS.ProcessEnv = process.env, options: ProgramOptions = {}): Command => {
  const program = new Command('keel')
    .description('Keel: an event-sourced CQRS backend for commerce.')
    .showHelpAfterError();

  program
    .command('serve')
    .description('start the HTTP API (the same as `npm start`); SIGINT/SIGTERM stop it gracefully')
    .addOption(
      new Option('--role <role>', 'api: the HTTP API only; projector: projections and the order process manager, with /health, /ready and /metrics on PROJECTOR_PORT; all: both')
        .choices(SERVE_ROLES)
        .default('all'),
    )
    .action(async (flags: { role: (typeof SERVE_ROLES)[number] }) => {
      try {
        const config = loadConfig(env);
        // Loaded on demand: `keel config` and `--help` need no database driver.
        const { startKeel } = await import('../server/index.js');
        await startKeel(config, { role: flags.role });
      } catch (error) {
        exitOnStartupError(error);
      }
    });

  program
    .command('config')
    .description('print the resolved configuration (passwords in URLs redacted) and where each value came from')
    .option('--json', 'print JSON instead of a table')
    .action((options: { json?: boolean }) => {
      try {
        process.stdout.write(`${formatConfig(loadConfig(env), env, options.json === true)}\n`);
      } catch (error) {
        exitOnStartupError(error);
      }
    });

  registerTokenCommand(program, env);

  // Read models are imported only here, never by the engine: a test entry passes its own list.
  program.addCommand(projectionsCommand(env, options.projections ?? readModels));

  // Replay debugging: read-only views of the event store (src/replay).
  program.addCommand(eventsCommand(env));
  program.addCommand(replayCommand(env));
  program.addCommand(explainCommand(env));

  return program;
};
