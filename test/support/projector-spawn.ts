/** Spawns the test projector (projector-process.ts) and the test CLI (projector-cli.ts) as real processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

const baseEnv = (env: Record<string, string>): NodeJS.ProcessEnv => {
  const base = { ...process.env };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'EVENTSTORE_URL', 'PORT', 'HOST', 'KEEL_DATA_DIR']) delete base[name];
  return { ...base, LOG_LEVEL: 'info', ...env };
};

export interface SpawnedProjector {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves once a JSON log line matches; rejects on exit or after `timeoutMs`. */
  waitForLog(predicate: (entry: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export const spawnProjector = (databaseUrl: string): SpawnedProjector => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/projector-process.ts'], {
    cwd: root,
    env: baseEnv({ DATABASE_URL: databaseUrl }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const entries: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        entries.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
    for (const listener of listeners) listener();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => out,
    exited: () => exit,
    waitForLog: (predicate, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        let seen = 0;
        const check = (): void => {
          for (; seen < entries.length; seen++) {
            const entry = entries[seen];
            if (entry && predicate(entry)) {
              cleanup();
              resolve(entry);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`log line not seen within ${timeoutMs} ms\n${out}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void exit.then(({ code, signal }) => {
          if (!listeners.has(check)) return;
          cleanup();
          reject(new Error(`projector exited (${code ?? signal}) before the log line\n${out}`));
        });
        check();
      }),
  };
};

export const isLeading = (entry: Record<string, unknown>): boolean => typeof entry.msg === 'string' && entry.msg.includes('is now its active runner');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const runToCompletion = (entry: readonly string[], args: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry, ...args], {
      cwd: root,
      env: baseEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keel ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });

/** Runs the test CLI (`keel` with the test projection) to completion. */
export const runCli = (args: readonly string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> =>
  runToCompletion(['--import', 'tsx', 'test/support/projector-cli.ts'], args, env, timeoutMs);

/** Runs the real `keel` entry (bin/keel.js, every read model of this build) to completion. */
export const runKeel = (args: readonly string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> =>
  runToCompletion(['bin/keel.js'], args, env, timeoutMs);
