/**
 * Runs `src/main.ts` (what `npm start` runs) as a real child process, for e2e tests. The server
 * logs JSON lines on stdout; `waitForUrl` reads the "listening" line to learn the port (PORT=0).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { within } from './within.js';
import { NO_SHEDDING } from './no-shedding.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface KeelProcess {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the URL the server logged once it listens; rejects if the process exits first. */
  waitForUrl(timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Variables of the parent that would change the runtime mode are removed; `env` is applied on top.
 * `args`: run the `keel` command (bin/keel.js) with them, e.g. `['serve', '--role', 'api']`.
 */
export const spawnKeel = (env: Record<string, string>, args?: readonly string[]): KeelProcess => {
  const base = { ...process.env };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'EVENTSTORE_URL', 'PORT', 'PROJECTOR_PORT', 'HOST', 'KEEL_DATA_DIR', 'JWT_SECRET', 'OTEL_EXPORTER_OTLP_ENDPOINT']) delete base[name];
  const child = spawn(process.execPath, args === undefined ? ['--import', 'tsx', 'src/main.ts'] : ['bin/keel.js', ...args], {
    cwd: root,
    // Load shedding off unless a test sets it: a busy test machine must not turn into 503s.
    // PROJECTOR_PORT=0: a projector's listener takes a free port, so processes of parallel tests never collide.
    env: { ...base, ...NO_SHEDDING, PROJECTOR_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });

  const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
    within(promise, ms, () => `${what} (stdout:\n${out}\nstderr:\n${err})`);

  const findUrl = (): string | undefined => {
    for (const line of out.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const entry: unknown = JSON.parse(line);
        if (typeof entry === 'object' && entry !== null && 'url' in entry && typeof entry.url === 'string') return entry.url;
      } catch {
        // not a log line
      }
    }
    return undefined;
  };

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForUrl: (timeoutMs = 60_000) =>
      withTimeout(
        new Promise<string>((resolve, reject) => {
          const check = (): void => {
            const url = findUrl();
            if (url !== undefined) {
              child.stdout?.off('data', check);
              resolve(url);
            }
          };
          child.stdout?.on('data', check);
          void exit.then(({ code, signal }) => reject(new Error(`keel exited (${code ?? signal}) before listening\n${err}`)));
          check();
        }),
        timeoutMs,
        'keel did not log its URL',
      ),
    exited: (timeoutMs = 10_000) => withTimeout(exit, timeoutMs, 'keel did not exit'),
  };
};
