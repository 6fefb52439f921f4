/**
 * `keel projections rebuild <name>`: runs the blue/green rebuild and shows its progress: a
 * progress bar with events/s and ETA on a terminal, a plain line every few seconds otherwise,
 * JSON lines with `--json` (one per progress step, then the result).
 */
import cliProgress from 'cli-progress';
import { isKeelError } from '../platform/errors.js';
import { rebuildProjection, type RebuildProgress, type RebuildResult } from '../projections/engine/index.js';
import type { CommandContext } from './projections-context.js';
import { CommandExit, EXIT_FAILURE, EXIT_OK } from './projections-context.js';
import { duration } from './projections-format.js';

export interface RebuildFlags {
  readonly dropOld?: boolean;
  readonly json?: boolean;
  readonly acceptCountMismatch?: boolean;
}

const jsonable = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));

type Reporter = { progress(p: RebuildProgress): void; done(result: RebuildResult): void; fail(error: unknown): void };

const plainLines = (name: string, write: (line: string) => void, everyMs: number): Reporter => {
  let lastAt = 0;
  return {
    progress(p) {
      if (p.kind === 'started') {
        write(`rebuild ${name}: building generation ${p.toGeneration} into schema ${p.schema}; generation ${p.fromGeneration} keeps serving reads until the swap`);
        if (p.liveRunnerActive === false) write(`rebuild ${name}: no projector is running ${name}: this rebuild holds it and builds to the head (a projector started meanwhile waits for the swap)`);
      } else if (p.kind === 'progress') {
        if (Date.now() - lastAt < everyMs && p.fraction < 1) return;
        lastAt = Date.now();
        const eta = p.etaSeconds === null ? '?' : duration(p.etaSeconds);
        write(`rebuild ${name}: ${p.events} events, ${Math.floor(p.fraction * 100)}%, ${Math.round(p.eventsPerSecond)} events/s, ETA ${eta}${p.parked > 0 ? `, ${p.parked} parked` : ''}`);
      } else if (p.kind === 'swapping') {
        write(`rebuild ${name}: caught up; verifying and swapping at position ${p.position}`);
      } else if (p.kind === 'swapped') {
        const counts = p.tables.map((t) => `${t.table} ${t.build ?? 'missing'} rows (live had ${t.live ?? 'none'})`).join(', ');
        write(`rebuild ${name}: verified ${counts}${p.countsCompared ? '' : '; the live tables were behind, so counts were reported, not compared'}`);
      } else {
        write(`rebuild ${name}: dropped ${p.schemas.join(', ')}`);
      }
    },
    done(result) {
      const kept = result.dropped.includes(result.oldSchema) ? '' : `; the previous tables are kept in schema ${result.oldSchema} (drop them with: keel projections drop-old ${name})`;
      write(`rebuild ${name}: done. Generation ${result.generation} (version ${result.version}) is live: ${result.events} events in ${duration(result.seconds)}${result.parked > 0 ? `, ${result.parked} parked (see: keel projections parked ${name})` : ''}${kept}`);
    },
    fail() {},
  };
};

const progressBar = (name: string): Reporter => {
  const bar = new cliProgress.SingleBar(
    { format: `${name} [{bar}] {percentage}% | {events} events | {rate} events/s | ETA {etaText}`, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const lines = plainLines(name, (line) => process.stderr.write(`${line}\n`), 0);
  return {
    progress(p) {
      if (p.kind === 'progress') {
        const payload = { events: p.events, rate: Math.round(p.eventsPerSecond), etaText: p.etaSeconds === null ? '?' : duration(p.etaSeconds) };
        if (!started) bar.start(1000, 0, payload);
        started = true;
        bar.update(Math.round(p.fraction * 1000), payload);
        return;
      }
      if (started && p.kind === 'swapping') {
        bar.update(1000);
        bar.stop();
        started = false;
      }
      lines.progress(p);
    },
    done(result) {
      if (started) bar.stop();
      lines.done(result);
    },
    fail() {
      if (started) bar.stop();
    },
  };
};

const jsonLines = (): Reporter => {
  let lastAt = 0;
  const write = (value: unknown) => process.stdout.write(`${JSON.stringify(jsonable(value))}\n`);
  return {
    progress(p) {
      if (p.kind === 'progress' && Date.now() - lastAt < 1_000) return;
      if (p.kind === 'progress') lastAt = Date.now();
      write(p);
    },
    done: (result) => write({ kind: 'result', ...result }),
    // The same one-line message goes to stderr; this line lets a script see the code.
    fail: (error) => write({ kind: 'error', code: isKeelError(error) ? error.code : null, message: error instanceof Error ? error.message : String(error) }),
  };
};

export const runRebuild = async (context: CommandContext, name: string, flags: RebuildFlags): Promise<number> => {
  const projection = context.projection(name);
  const reporter = flags.json === true ? jsonLines() : process.stderr.isTTY ? progressBar(name) : plainLines(name, (line) => process.stdout.write(`${line}\n`), 2_000);
  // Ctrl-C stops the build cleanly: the live tables are untouched and the partial build is
  // dropped by the next rebuild.
  const controller = new AbortController();
  const interrupt = (): void => controller.abort(new CommandExit(EXIT_FAILURE, `Rebuild of ${name} interrupted; nothing was swapped, the live tables are unchanged.`));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const result = await rebuildProjection({
      signal: controller.signal,
      handle: context.handle,
      store: context.store,
      projection,
      onProgress: (p) => reporter.progress(p),
      dropOld: flags.dropOld === true,
      acceptCountMismatch: flags.acceptCountMismatch === true,
    });
    reporter.done(result);
    return EXIT_OK;
  } catch (error) {
    reporter.fail(error);
    throw error;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
};
