/**
 * A real Prometheus for tests (Debian's `prometheus` package, installed by `npm test` through
 * scripts/provision.mjs): `startPrometheus` writes a configuration into a temporary directory that
 * scrapes the given targets every second, starts the server on a free port of 127.0.0.1 with its
 * storage in that directory and exemplar storage on, waits until it is ready, and `stop` kills it
 * and removes the directory. `query` and `queryExemplars` call its HTTP API.
 *
 * Also `metricNamesIn`, the series names a PromQL expression reads, for the checks of the rules and
 * the dashboard (test/integration/ops/alert-rules.test.ts).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** One sample of an instant vector: its labels and value (NaN and ±Inf as Prometheus spells them). */
export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The exemplars of one series: Prometheus's /api/v1/query_exemplars answer. */
export interface SeriesExemplars {
  readonly seriesLabels: Readonly<Record<string, string>>;
  readonly exemplars: ReadonlyArray<{ readonly labels: Readonly<Record<string, string>>; readonly value: string; readonly timestamp: number }>;
}

export interface Prometheus {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** An instant query at the current time. */
  query(expr: string): Promise<Sample[]>;
  /** The exemplars of the series `expr` selects, over the last `seconds`. */
  queryExemplars(expr: string, seconds?: number): Promise<SeriesExemplars[]>;
  /** Resolves once every target has been scraped successfully since `since` (ms since the epoch). */
  scrapedSince(since: number, timeoutMs?: number): Promise<void>;
  /** Prometheus's output so far, for failure messages. */
  readonly log: () => string;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** host:port of each target to scrape, all in one job. */
  readonly targets: readonly string[];
  /** The scrape job's name (the `job` label); default `keel`. */
  readonly job?: string;
  /** Seconds between scrapes; default 1. */
  readonly scrapeIntervalSeconds?: number;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

const toNumber = (text: string): number => (text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text));

/** Runs `prometheus`; fails with how to install it when it is missing. */
export const startPrometheus = async (options: PrometheusOptions): Promise<Prometheus> => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-prometheus-'));
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  const config = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'scrape_configs:',
    `  - job_name: ${options.job ?? 'keel'}`,
    '    static_configs:',
    `      - targets: [${options.targets.map((t) => `'${t}'`).join(', ')}]`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--enable-feature=exemplar-storage',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.on('error', (error) => {
      exited = `prometheus could not run (${error.message}): install Debian's "prometheus" package (apt-get install prometheus); npm test does it as root`;
      resolve();
    });
    child.on('exit', (code, signal) => {
      exited ??= `prometheus exited (${code ?? signal})`;
      resolve();
    });
  });

  const stop = async (): Promise<void> => {
    if (exited === undefined) {
      child.kill('SIGTERM');
      await Promise.race([exit, sleep(5_000)]);
      if (exited === undefined) {
        child.kill('SIGKILL');
        await exit;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const api = async <T>(path: string, params: Record<string, string>): Promise<T> => {
    const response = await fetch(`${url}${path}?${new URLSearchParams(params).toString()}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path} ${JSON.stringify(params)}: ${body.error ?? response.status}`);
    return body.data;
  };

  const query = async (expr: string): Promise<Sample[]> => {
    const data = await api<{ resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> }>('/api/v1/query', { query: expr });
    if (data.resultType !== 'vector') throw new Error(`${expr} gave a ${data.resultType}, not a vector`);
    return data.result.map((r) => ({ metric: r.metric, value: toNumber(r.value[1]) }));
  };

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited !== undefined) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${exited}\n${output}`);
    }
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus was not ready within 20 s\n${output}`);
    }
    await sleep(100);
  }

  return {
    url,
    query,
    queryExemplars: (expr, seconds = 300) => {
      const end = Date.now() / 1000;
      return api<SeriesExemplars[]>('/api/v1/query_exemplars', { query: expr, start: String(end - seconds), end: String(end) });
    },
    scrapedSince: async (since, timeoutMs = 10_000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const data = await api<{ activeTargets: Array<{ health: string; lastScrape: string; lastError: string; scrapeUrl: string }> }>('/api/v1/targets', { state: 'active' }).catch(
          () => ({ activeTargets: [] }),
        );
        const targets = data.activeTargets;
        if (targets.length > 0 && targets.every((t) => t.health === 'up' && Date.parse(t.lastScrape) > since)) return;
        if (Date.now() > until) throw new Error(`targets not scraped since ${new Date(since).toISOString()}: ${JSON.stringify(targets)}`);
        await sleep(200);
      }
    },
    log: () => output,
    stop,
  };
};

const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * The series names a PromQL expression reads (metric names, not functions, keywords, label names,
 * strings, durations or Grafana's `$variables`). Enough for Keel's rules and dashboard, not a parser.
 */
export const metricNamesIn = (expr: string): string[] => {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  return [...bare.matchAll(/(?<![\w:.])([a-zA-Z_:][\w:]*)(\s*\()?/g)]
    .filter((m) => m[2] === undefined && !PROMQL_KEYWORDS.has((m[1] ?? '').toLowerCase()))
    .map((m) => m[1] ?? '');
};
