/** The `keel` command line. Each subcommand loads the configuration itself, so `--help` needs none. */
import { Command } from 'commander';
import { loadConfig } from '../platform/config.js';
import { formatConfig } from './config-command.js';
import { exitOnStartupError } from './exit.js';

export const buildProgram = (env: NodeJS.ProcessEnv = process.env): Command => {
  const program = new Command('keel')
    .description('Keel: an event-sourced CQRS backend for commerce.')
    .showHelpAfterError();

  program
    .command('serve')
    .description('start the HTTP API (the same as `npm start`); SIGINT/SIGTERM stop it gracefully')
    .action(async () => {
      try {
        const config = loadConfig(env);
        // Loaded on demand: `keel config` and `--help` need no database driver.
        const { startKeel } = await import('./serve.js');
        await startKeel(config);
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

  return program;
};
