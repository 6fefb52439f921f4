/**
 * `npm run bench:overhead [-- --base <git ref>] [--rounds N] [--only a1,b,api]`: what metrics and
 * tracing cost the hot paths. The same workloads (`npm run bench -- --only …`) run, alternating,
 * in three builds of Keel within one run:
 * - base: a git worktree of `--base` (default: the commit before /metrics existed), no metrics code;
 * - metrics: this tree as shipped (metrics on, tracing off: the default);
 * - tracing 1%: this tree with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a local OTLP sink that
 *   accepts and drops every batch (the export's cost is Keel's, the collector's is not), sampling 1%
 *   of new traces (OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=0.01);
 * - tracing 100%: the same, every trace recorded and exported (the SDK's default).
 * It prints the median rate of each workload per build and the ratios to the base; then, for the
 * api rows, each run's rate as a share of the ceiling measured in that same run (the bare
 * fastify+mercurius process: the same code in every build), whose medians drift less with the
 * machine than the rates do.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The last commit before metrics and tracing (issue #14) landed. */
const DEFAULT_BASE = '2b54777';

const options = new Command('bench:overhead')
  .addOption(new Option('--base <ref>', 'the commit without metrics and tracing').default(DEFAULT_BASE))
  .addOption(new Option('--rounds <n>', 'runs of each build, alternating').default('2'))
  .addOption(new Option('--only <ids>', 'workloads (npm run bench ids)').default('a1,b,api'))
  .addOption(new Option('--builds <names>', 'builds to run: base,metrics,tracing-1,tracing-100').default('base,metrics,tracing-1,tracing-100'))
  .parse()
  .opts<{ base: string; rounds: string; only: string; builds: string }>();

const worktree = join(ROOT, '.bench-base');
if (!existsSync(worktree)) {
  execFileSync('git', ['worktree', 'add', '--detach', worktree, options.base], { cwd: ROOT, stdio: 'inherit' });
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: worktree, stdio: 'inherit' });
}

/** An OTLP/HTTP endpoint that answers every export with 200 and keeps nothing. */
const sink = createServer((request, response) => {
  request.resume();
  request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

interface Build {
  readonly name: string;
  readonly cwd: string;
  readonly env: Record<string, string>;
}
const BUILDS: Readonly<Record<string, Build>> = {
  base: { name: 'base', cwd: worktree, env: {} },
  metrics: { name: 'metrics', cwd: ROOT, env: {} },
  'tracing-1': { name: 'tracing 1%', cwd: ROOT, env: { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' } },
  'tracing-100': { name: 'tracing 100%', cwd: ROOT, env: { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl } },
};
const builds: Build[] = options.builds.split(',').map((name) => {
  const build = BUILDS[name.trim()];
  if (build === undefined) throw new Error(`--builds: unknown build ${name}; known: ${Object.keys(BUILDS).join(', ')}`);
  return build;
});
if (builds[0]?.name !== 'base') throw new Error('--builds: the first build must be base (the ratios are to it)');

const newestResult = (cwd: string): string => {
  const dir = join(cwd, 'bench', 'results');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const last = files.at(-1);
  if (last === undefined) throw new Error(`no result in ${dir}`);
  return join(dir, last);
};

const runBench = (build: Build): Promise<Map<string, number>> =>
  new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'bench', '--', '--only', options.only], { cwd: build.cwd, env: { ...process.env, ...build.env }, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${build.name}: npm run bench exited ${code}`));
      const { results } = JSON.parse(readFileSync(newestResult(build.cwd), 'utf8')) as { results: { workload: string; rate: number }[] };
      resolve(new Map(results.map((r) => [r.workload, r.rate])));
    });
  });

/** Per build, one Map of workload to rate per round. */
const runs = new Map<string, Array<Map<string, number>>>(builds.map((build) => [build.name, []]));
for (let round = 1; round <= Number(options.rounds); round++) {
  // Alternate the order each round, so drift of the machine does not favour one build.
  for (const build of round % 2 === 1 ? builds : [...builds].reverse()) {
    console.error(`\n[overhead] round ${round}: ${build.name}`);
    runs.get(build.name)?.push(await runBench(build));
  }
}
sink.close();

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

const CEILING = 'api ceiling: bare mercurius';
const workloads = [...new Set([...runs.values()].flatMap((rounds) => rounds.flatMap((rates) => [...rates.keys()])))];
/** The median over rounds of `valueOf(one round's rates)`, per build; NaN where a round lacks it. */
const medians = (valueOf: (rates: Map<string, number>) => number | undefined): number[] =>
  builds.map((build) => median((runs.get(build.name) ?? []).map(valueOf).filter((v): v is number => v !== undefined && Number.isFinite(v))));
const table = (title: string, rows: ReadonlyArray<readonly [string, number[]]>, digits: number): void => {
  console.log(`\n${title}\n`);
  console.log(`| workload | ${builds.map((b, i) => (i === 0 ? `${b.name} (${options.base})` : `${b.name} | ${b.name} / base`)).join(' | ')} |`);
  console.log(`|---|${builds.map((_, i) => (i === 0 ? '---' : '---|---')).join('|')}|`);
  for (const [workload, values] of rows) {
    const base = values[0] ?? Number.NaN;
    const cells = values.map((value, i) => (i === 0 ? value.toFixed(digits) : `${value.toFixed(digits)} | ${(value / base).toFixed(3)}`));
    console.log(`| ${workload} | ${cells.join(' | ')} |`);
  }
};
table(`Median rate of ${options.rounds} rounds`, workloads.map((workload) => [workload, medians((rates) => rates.get(workload))] as const), 0);
const apiRows = workloads.filter((workload) => workload.startsWith('api ') && workload !== CEILING);
if (apiRows.length > 0) {
  table(
    'Median share of the same run\'s ceiling (rate / ceiling)',
    apiRows.map((workload) => [workload, medians((rates) => (rates.get(workload) ?? Number.NaN) / (rates.get(CEILING) ?? Number.NaN))] as const),
    3,
  );
}
