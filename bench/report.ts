/**
 * The report: a table on stdout and a JSON file under bench/results/ with the machine, the
 * versions and the settings the run used, beside every workload's full result.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import type { WorkloadResult } from './load.js';

const ROOT = new URL('../', import.meta.url);
const DEPENDENCIES = ['kysely', 'pg', '@electric-sql/pglite', 'kysely-pglite-dialect', 'lru-cache', 'uuid', 'zod', 'tsx', 'typescript', 'fastify', 'mercurius', 'graphql', 'ioredis', '@fastify/rate-limit', '@fastify/jwt', 'autocannon'];

const versionOf = (packageJson: URL): string => {
  try {
    const parsed: unknown = JSON.parse(readFileSync(packageJson, 'utf8'));
    const version = typeof parsed === 'object' && parsed !== null && 'version' in parsed ? parsed.version : undefined;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'not installed';
  }
};

/** The commit the run measured, and whether the work tree had changes on top of it. */
const gitState = (): { readonly commit: string; readonly dirty: boolean } | 'unknown' => {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { commit: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain', '--', 'src').length > 0 };
  } catch {
    return 'unknown';
  }
};

export const machine = () => {
  const cpus = os.cpus();
  return {
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryBytes: os.totalmem(),
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
};

export const versions = (postgres: string) => ({
  node: process.version,
  postgres,
  keel: versionOf(new URL('package.json', ROOT)),
  keelGit: gitState(),
  dependencies: Object.fromEntries(DEPENDENCIES.map((name) => [name, versionOf(new URL(`node_modules/${name}/package.json`, ROOT))])),
});

const cell = (value: number | undefined): string => (value === undefined ? '-' : value.toLocaleString('en-US', { maximumFractionDigits: 2 }));

export const formatTable = (results: readonly WorkloadResult[]): string => {
  const header = ['workload', 'ops', 'rate', 'p50 ms', 'p99 ms', 'notes'];
  const rows = results.map((r) => [
    r.workload,
    cell(r.ops),
    `${cell(Math.round(r.rate))} ${r.rateUnit}`,
    cell(r.latencyMs?.p50),
    cell(r.latencyMs?.p99),
    r.notes,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
};

export interface Report {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: ReturnType<typeof machine>;
  readonly versions: ReturnType<typeof versions>;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly results: readonly WorkloadResult[];
}

/** Writes the report to bench/results/<timestamp>.json and returns the path. */
export const writeReport = async (report: Report): Promise<string> => {
  const dir = new URL('bench/results/', ROOT);
  await mkdir(dir, { recursive: true });
  const file = new URL(`${report.startedAt.replace(/[:.]/g, '-')}.json`, dir);
  await writeFile(file, `${JSON.stringify(report, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
  return file.pathname;
};
