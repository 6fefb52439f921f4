/**
 * What every `keel projections …` command needs: the configuration, the database and the event
 * store (migrated), the projection by name, and the exit codes: 0 ok, 1 failure, 2 usage error.
 */
import type { EventStore } from '../eventstore/port.js';
import { loadConfig } from '../platform/config.js';
import type { DatabaseHandle } from '../platform/database.js';
import { isKeelError } from '../platform/errors.js';
import type { Projection } from '../projections/projection.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Thrown to end a command with a message and an exit code (caught in `runCommand`). */
export class CommandExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'CommandExit';
  }
}

export interface CommandContext {
  readonly handle: DatabaseHandle;
  readonly store: EventStore;
  readonly projections: readonly Projection[];
  /** The named projection, or a usage error listing the known ones. */
  projection(name: string): Projection;
}

export const knownProjections = (projections: readonly Projection[]): string =>
  projections.length === 0 ? 'none are registered in this build' : `known: ${projections.map((p) => p.name).join(', ')}`;

export const findProjection = (projections: readonly Projection[], name: string): Projection => {
  const found = projections.find((p) => p.name === name);
  if (!found) throw new CommandExit(EXIT_USAGE, `Unknown projection "${name}" (${knownProjections(projections)}). See: keel projections list`);
  return found;
};

/**
 * Opens the stores, runs `work`, closes them, and exits with the right code. A Keel error (data
 * directory in use, verification failed, …) is one line on stderr; anything else keeps its stack.
 */
export const runCommand = async (
  env: NodeJS.ProcessEnv,
  projections: readonly Projection[],
  work: (context: CommandContext) => Promise<number | void>,
): Promise<never> => {
  let code: number = EXIT_OK;
  let close: () => Promise<void> = () => Promise.resolve();
  try {
    const config = loadConfig(env);
    // Loaded on demand: `--help` needs no database driver.
    const { openDatabase } = await import('../platform/database.js');
    const { openEventStore } = await import('../eventstore/open.js');
    const { migrateProjections } = await import('../projections/engine/index.js');
    const handle = await openDatabase({
      dataDir: config.dataDir,
      poolSize: 4,
      ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }),
    });
    close = () => handle.close();
    const store = await openEventStore(handle, { eventStoreUrl: config.eventStoreUrl });
    close = async () => {
      await store.close();
      await handle.close();
    };
    await migrateProjections(handle);
    code = (await work({ handle, store, projections, projection: (name) => findProjection(projections, name) })) ?? EXIT_OK;
  } catch (error) {
    if (error instanceof CommandExit) {
      process.stderr.write(`${error.message}\n`);
      code = error.exitCode;
    } else {
      const text = isKeelError(error) ? `${error.message} [${error.code}]` : error instanceof Error ? (error.stack ?? error.message) : String(error);
      process.stderr.write(`${text}\n`);
      code = EXIT_FAILURE;
    }
  }
  await close().catch(() => {});
  process.exit(code);
};
