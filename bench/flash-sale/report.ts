/**
 * The report of a run: a table of its figures and its invariants with PASS/FAIL on stdout, and
 * beside it in the results folder the run's JSON and its chart (./chart.ts) as a PNG.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeRunChart } from './chart.js';
import type { FaultMark } from './faults.js';
import type { Check } from './invariants.js';
import type { BuyersResult, RampPhase, RampResult } from './protocol.js';
import { bucketsOf } from './summary.js';
import type { RunSummary } from './summary.js';

export interface RunReport {
  readonly name: string;
  readonly title: string;
  /** Set when the run could not complete (a process did not start, say). */
  readonly failed?: string;
  readonly settings?: Readonly<Record<string, unknown>>;
  readonly summary?: RunSummary;
  readonly lagAtEnd?: { readonly seconds: number | null; readonly events: number | null; readonly underOneSecondAfterMs: number | null };
  readonly peakRssKiB?: Readonly<Record<string, number>>;
  readonly faults?: readonly FaultMark[];
  readonly checks: readonly Check[];
  readonly events?: number;
  /** The overload run's figures (./overload.ts). */
  readonly overload?: OverloadFigures;
}

export interface OverloadFigures {
  readonly steps: readonly RampPhase[];
  readonly kneeRate: number | null;
  readonly sustainableRate: number;
  readonly overload: RampPhase;
  readonly recovery: RampPhase;
}

const n = (value: number | null | undefined): string => (value === null || value === undefined ? '-' : value.toLocaleString('en-US', { maximumFractionDigits: 1 }));
const ms = (value: number | null | undefined): string => (value === null || value === undefined ? '-' : `${n(Math.round(value))} ms`);
const counts = (record: Readonly<Record<string, number>>): string =>
  Object.keys(record).length === 0 ? 'none' : Object.entries(record).map(([k, v]) => `${k} ${n(v)}`).join(', ');
const spread = (s: { p50: number | null; p95: number | null; p99: number | null; max: number | null }): string => `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)} (max ${ms(s.max)})`;

export const table = (rows: ReadonlyArray<readonly [string, string]>): string => {
  const width = Math.max(...rows.map(([k]) => k.length), 6);
  return [`| ${'figure'.padEnd(width)} | value |`, `|${'-'.repeat(width + 2)}|-------|`, ...rows.map(([k, v]) => `| ${k.padEnd(width)} | ${v} |`)].join('\n');
};

const phaseCell = (p: RampPhase): string =>
  `${n(p.rate)}/s: ${n(p.accepted)} of ${n(p.sent)} accepted, p50 ${ms(p.p50Ms)}, p99 ${ms(p.p99Ms)}${Object.keys(p.failed).length === 0 ? '' : `, not accepted: ${counts(p.failed)}`}`;

const overloadRows = (report: RunReport, o: OverloadFigures): Array<readonly [string, string]> => [
  ...o.steps.map((step) => [`ramp step`, phaseCell(step)] as const),
  ['the knee (p99 over 500 ms or a failed request)', o.kneeRate === null ? `none up to ${n(o.sustainableRate)}/s` : `${n(o.kneeRate)} checkouts/s (${n(o.sustainableRate)}/s held)`],
  ['twice the knee, 10 s', phaseCell(o.overload)],
  ['recovery at half the sustainable rate', phaseCell(o.recovery)],
  ['projection lag at the end', `${n(report.lagAtEnd?.seconds)} s, ${n(report.lagAtEnd?.events)} events`],
  ['peak RSS', Object.entries(report.peakRssKiB ?? {}).map(([k, v]) => `${k} ${n(Math.round(v / 1024))} MiB`).join(', ')],
  ['events in the log', n(report.events)],
];

export const figureRows = (report: RunReport): Array<readonly [string, string]> => {
  const s = report.summary;
  if (report.overload !== undefined) return overloadRows(report, report.overload);
  if (s === undefined) return [['run', `could not complete: ${report.failed ?? 'unknown'}`]];
  return [
    ['buyers', n(s.buyers)],
    ['checkout attempts', n(s.attempts)],
    ['accepted orders', n(s.accepted)],
    ['sold (units committed)', n(s.sold)],
    ['confirmed (paid)', n(s.confirmed)],
    ['cancelled, by reason', counts(s.cancelledByReason)],
    ['refused, by reason', counts(s.refusedByReason)],
    ['errors (checkout answers), by code', counts(s.errorsByCode)],
    ['checkout p50 / p95 / p99 (on the wire)', spread(s.checkoutMs)],
    ['checkout p50 / p95 / p99 (from the click, queue included)', spread(s.checkoutFromClickMs)],
    ['final answer after the opening p50 / p95 / p99', spread(s.finalAnswerMs)],
    ['every buyer answered after', ms(s.allAnsweredMs)],
    ['board first showed 0 left / every unit sold', `${ms(s.boardFirstSoldOutMs)} / ${ms(s.boardAllSoldMs)}`],
    ['requests/s at the peak (1 s window)', n(s.peakRequestsPerSecond)],
    ['buyers subscribed / polling', `${n(s.subscribers)} / ${n(s.pollers)}`],
    ['projection lag at the end', `${n(report.lagAtEnd?.seconds)} s, ${n(report.lagAtEnd?.events)} events (under 1 s ${ms(report.lagAtEnd?.underOneSecondAfterMs)} after the last answer)`],
    ['peak RSS', Object.entries(report.peakRssKiB ?? {}).map(([k, v]) => `${k} ${n(Math.round(v / 1024))} MiB`).join(', ')],
    ['events in the log', n(report.events)],
    ['faults', (report.faults ?? []).map((f) => `${f.label} at ${f.from.toFixed(1)} s${f.to === undefined ? '' : `–${f.to.toFixed(1)} s`}`).join('; ') || 'none'],
  ];
};

export const checkLines = (checks: readonly Check[]): string => checks.map((c) => `${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`).join('\n');

/**
 * The issue's figures for a sale run, MET or MISSED: reported beside the invariants, never a FAIL
 * (a figure depends on the machine; an invariant does not).
 */
export const targetLines = (report: RunReport): string => {
  const s = report.summary;
  if (s === undefined) return '';
  const lines = [
    [`every buyer's final answer within 10 s of the opening`, s.allAnsweredMs <= 10_000, `${n(Math.round(s.allAnsweredMs))} ms`],
    ['p99 checkout under 1 s (on the wire)', (s.checkoutMs.p99 ?? Infinity) < 1_000, ms(s.checkoutMs.p99)],
    ['p99 checkout under 1 s (from the click)', (s.checkoutFromClickMs.p99 ?? Infinity) < 1_000, ms(s.checkoutFromClickMs.p99)],
  ] as const;
  return `${lines.map(([what, met, value]) => `${met ? 'MET   ' : 'MISSED'}  target: ${what}: ${value}`).join('\n')}\n`;
};

export const printRun = (report: RunReport): void => {
  process.stdout.write(`\n### ${report.name}: ${report.title}\n\n${table(figureRows(report))}\n\n${checkLines(report.checks)}\n${targetLines(report)}`);
};

export const writeRunFiles = async (report: RunReport, result: BuyersResult, outDir: string): Promise<void> => {
  await writeFile(join(outDir, `${report.name}.json`), JSON.stringify(report, null, 2));
  const buckets = bucketsOf(result, 0.5);
  const s = report.summary;
  const title = `flash sale, ${report.name}: ${report.title}${s === undefined ? '' : ` (${n(s.buyers)} buyers, ${n(s.sold)} sold)`}`;
  await writeRunChart({ title, ...buckets, faults: report.faults ?? [] }, join(outDir, `${report.name}.png`));
};

/** The overload run's chart: accepted and shed checkouts per bucket, p99 from the scheduled time, the phases marked. */
export const writeOverloadFiles = async (report: RunReport, result: RampResult, outDir: string): Promise<void> => {
  await writeFile(join(outDir, 'overload.json'), JSON.stringify(report, null, 2));
  const finals = result.checkouts.map((sample) => ({ t: sample.t, latencyMs: sample.latencyMs, code: sample.code === 'ok' ? 'confirmed' : sample.code.startsWith('KEEL_ERR_') ? 'refused' : 'error' }));
  const buckets = bucketsOf({ openingAt: 0, allAnsweredAt: 0, board: { firstSoldOutAt: null, allSoldAt: null }, records: [], checkouts: result.checkouts, finals, reads: [] }, 0.5);
  const marks = [result.overload, result.recovery].map((phase) => ({ label: phase.name, from: phase.startMs / 1_000, to: phase.startMs / 1_000 + phase.seconds }));
  await writeRunChart(
    {
      title: `flash sale, overload: ${report.title}`,
      ...buckets,
      faults: marks,
      outcomeNames: { confirmed: 'accepted', refused: 'shed (coded)', errors: 'failed (uncoded)' },
      outcomesAxisName: 'checkouts answered per 0.5 s bucket',
    },
    join(outDir, 'overload.png'),
  );
};
