/**
 * `keel projections trace <name> <key>`: the events that wrote the rows of a key, oldest first.
 * `keel projections diff <name> <key>`: the key's rows rebuilt from the log in a scratch schema and
 * compared with the live rows: "no drift" (exit 0) or the differences per table (exit 1).
 * Both scan the projection's events; on a terminal a long scan shows its progress on stderr.
 */
import { diffKey, LineageError, traceKey } from '../projections/engine/index.js';
import type { DiffResult, RowValues, ScanProgress, TableDiff, TraceResult } from '../projections/engine/index.js';
import type { Projection } from '../projections/projection.js';
import type { CommandContext } from './projections-context.js';
import { CommandExit, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './projections-context.js';
import { table } from './projections-format.js';

export interface LineageFlags {
  readonly json?: boolean;
}

const json = (value: unknown): string => `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;

/** What a key of `projection` is, from its keyed columns (for the "no event" message). */
const keyHint = (projection: Projection): string => {
  const columns = Object.entries(projection.rowsOfKey ?? {}).map(([t, c]) => `${t}.${c}`);
  return columns.length === 0 ? 'Check the key (see keyOf in its read model).' : `Check the key: a key of ${projection.name} is a value of ${columns.join(', ')}.`;
};

const noEvents = (projection: Projection, key: string): CommandExit =>
  new CommandExit(EXIT_FAILURE, `no event of ${projection.name} wrote key ${key}. ${keyHint(projection)}`);

/** A progress line redrawn on a terminal once a scan takes more than a second; nothing in a pipe. */
const scanProgress = (label: string) => {
  const startedAt = Date.now();
  let shown = false;
  return {
    onProgress: (p: ScanProgress): void => {
      if (!process.stderr.isTTY || Date.now() - startedAt < 1_000) return;
      shown = true;
      process.stderr.write(`\r${label}: pass ${p.pass}, ${p.read} events read, ${p.matched} matched, at position ${p.position}`);
    },
    done: (): void => {
      if (shown) process.stderr.write('\r\u001b[2K');
    },
  };
};

/** Runs a lineage call, turning its refusals into exit codes and clearing the progress line. */
const withLineage = async <T>(label: string, work: (onProgress: (p: ScanProgress) => void) => Promise<T>): Promise<T> => {
  const progress = scanProgress(label);
  try {
    return await work(progress.onProgress);
  } catch (error) {
    if (error instanceof LineageError) throw new CommandExit(error.usage ? EXIT_USAGE : EXIT_FAILURE, error.message);
    throw error;
  } finally {
    progress.done();
  }
};

// trace ---------------------------------------------------------------------------------------

export const traceText = (result: TraceResult): string => {
  const rows = result.events.map((e) => [e.position.toString(), e.streamId, e.revision.toString(), e.type, e.time, e.commandId ?? '-', e.correlationId ?? '-']);
  const header = ['POSITION', 'STREAM', 'REVISION', 'TYPE', 'TIME', 'COMMAND', 'CORRELATION'];
  return `${table(header, rows)}\n${result.events.length} event(s) of ${result.name} wrote key ${result.key}, oldest first.`;
};

export const traceJson = (result: TraceResult) =>
  result.events.map((e) => ({ ...e, position: e.position.toString(), revision: e.revision.toString() }));

export const runTrace = async (context: CommandContext, name: string, key: string, flags: LineageFlags): Promise<number> => {
  const projection = context.projection(name);
  const result = await withLineage(`trace ${name} ${key}`, (onProgress) => traceKey({ store: context.store, projection, key, onProgress }));
  if (result.events.length === 0) throw noEvents(projection, key);
  process.stdout.write(flags.json === true ? json(traceJson(result)) : `${traceText(result)}\n`);
  return EXIT_OK;
};

// diff ----------------------------------------------------------------------------------------

const show = (value: string | null): string => (value === null ? 'NULL' : JSON.stringify(value));
const keyText = (key: RowValues): string => Object.entries(key).map(([c, v]) => `${c}=${v ?? 'NULL'}`).join(' ');
const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

const tableText = (t: TableDiff): string[] => {
  const id = (row: RowValues): string => (t.primaryKey.length > 0 ? keyText(Object.fromEntries(t.primaryKey.map((c) => [c, row[c] ?? null]))) : '(no primary key)');
  const counts = [
    t.missingInLive.length > 0 ? `${plural(t.missingInLive.length, 'row')} missing in live` : '',
    t.extraInLive.length > 0 ? `${plural(t.extraInLive.length, 'row')} extra in live` : '',
    t.changed.length > 0 ? `${plural(t.changed.length, 'row')} changed` : '',
  ].filter((c) => c !== '');
  if (counts.length === 0) return [`${t.table}: ${plural(t.liveRows, 'row')}, same as rebuilt`];
  return [
    `${t.table}: ${counts.join(', ')} (live ${t.liveRows}, rebuilt ${t.rebuiltRows})`,
    ...t.missingInLive.map((row) => `  - missing in live: ${id(row)}  rebuilt ${JSON.stringify(row)}`),
    ...t.extraInLive.map((row) => `  + extra in live:   ${id(row)}  live ${JSON.stringify(row)}`),
    ...t.changed.flatMap((c) => [`  ~ changed: ${keyText(c.key)}`, ...c.columns.map((col) => `      ${col.column}: live ${show(col.live)}, rebuilt ${show(col.rebuilt)}`)]),
  ];
};

const notes = (r: DiffResult): string[] => [
  ...(r.inputs > 0 ? [`  (with ${plural(r.inputs, 'event')} of other keys that its events read from; aggregate rows are rebuilt whole from every event of the key)`] : []),
  ...(r.later > 0 ? [`! ${plural(r.later, 'event')} of ${r.key} after the checkpoint are not projected yet: left out of both sides.`] : []),
  ...(r.parked > 0 ? [`! ${plural(r.parked, 'event')} of ${r.key} are parked in the live model, so their effects are missing from the live rows: keel projections parked ${r.name}`] : []),
  ...(r.notCompared.length > 0 ? [`  Not compared (not keyed): ${r.notCompared.join(', ')}.`] : []),
];

export const diffText = (r: DiffResult): string => {
  const source = `a rebuild from its ${plural(r.events, 'event')} up to position ${r.position} (the live checkpoint)`;
  if (!r.drift) {
    const rows = r.tables.map((t) => `${t.table} ${t.liveRows}`).join(', ');
    return [`No drift: the live rows of ${r.key} in ${r.name} (${rows}) match ${source}.`, ...notes(r)].join('\n');
  }
  return [
    `DRIFT in ${r.name}, key ${r.key}: the live rows differ from ${source}.`,
    ...notes(r),
    ...r.tables.flatMap(tableText),
    `The rebuilt rows are what the log says. To repair the live tables, rebuild them: keel projections rebuild ${r.name} --accept-count-mismatch`,
  ].join('\n');
};

export const diffJson = (r: DiffResult) => ({ ...r, position: r.position.toString() });

export const runDiff = async (context: CommandContext, name: string, key: string, flags: LineageFlags): Promise<number> => {
  const projection = context.projection(name);
  const result = await withLineage(`diff ${name} ${key}`, (onProgress) =>
    diffKey({ handle: context.handle, store: context.store, projection, key, onProgress }),
  );
  if (result.events === 0 && result.later === 0 && !result.drift) throw noEvents(projection, key);
  process.stdout.write(flags.json === true ? json(diffJson(result)) : `${diffText(result)}\n`);
  return result.drift ? EXIT_FAILURE : EXIT_OK;
};
