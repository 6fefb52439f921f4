/** Text for people: tables, durations and the parked list of `keel projections …`. */
import { clearHorizonSql, holderText } from '../projections/engine/index.js';
import type { ParkedEvent, ProjectionStatus } from '../projections/engine/index.js';
import type { Projection } from '../projections/projection.js';

/** Left-aligned columns separated by two spaces. */
export const table = (header: readonly string[], rows: readonly (readonly string[])[]): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
};

export const duration = (seconds: number): string => {
  if (seconds < 1) return seconds === 0 ? '0s' : `${seconds.toFixed(1)}s`;
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5_400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
};

export const listText = (projections: readonly Projection[]): string =>
  projections.length === 0
    ? 'No projections are registered in this build.'
    : table(
        ['PROJECTION', 'VERSION', 'EVENT TYPES', 'DESCRIPTION'],
        projections.map((p) => [p.name, String(p.version), String(p.eventTypes.length), p.description]),
      );

export const listJson = (projections: readonly Projection[]) =>
  projections.map((p) => ({ name: p.name, version: p.version, description: p.description, eventTypes: p.eventTypes, tables: p.tables }));

const runnerText = (s: ProjectionStatus): string => (s.active === null ? '-' : s.active ? 'active' : 'NONE');

export const statusText = (statuses: readonly ProjectionStatus[]): string => {
  const rows = statuses.map((s) => [
    s.name,
    s.state,
    s.generation === null ? '-' : String(s.generation),
    s.position.toString(),
    `${s.lagEvents}${s.lagEventsCapped ? '+' : ''}`,
    duration(s.lagSeconds),
    String(s.parked),
    runnerText(s),
  ]);
  const notes: string[] = [];
  for (const s of statuses) {
    if (s.state === 'needs-rebuild') notes.push(`! ${s.name}: tables are version ${s.version ?? '?'}, code is version ${s.codeVersion}; no events are applied until you run: keel projections rebuild ${s.name}`);
    if (s.state === 'paused') notes.push(`! ${s.name} is paused; reads serve data as of its position. Resume with: keel projections resume ${s.name}`);
    if (s.state === 'not-started') notes.push(`! ${s.name} has never run: start a projector (keel serve --role projector or all)`);
    if (s.parked > 0) notes.push(`! ${s.name}: ${s.parked} parked event(s); see: keel projections parked ${s.name}`);
    if (s.active === false && s.state === 'running' && s.lagEvents > 0) notes.push(`! ${s.name}: ${s.lagEvents} events behind and no projector process is running it`);
  }
  notes.push(...horizonNotes(statuses));
  const header = ['PROJECTION', 'STATE', 'GEN', 'POSITION', 'LAG EVENTS', 'LAG', 'PARKED', 'RUNNER'];
  return [table(header, rows), ...notes].join('\n');
};

/**
 * A transaction holding the event store's horizon back stops every projection at once, and lag
 * alone does not say why: name it once, with the statement that ends it.
 */
const horizonNotes = (statuses: readonly ProjectionStatus[]): string[] => {
  const stalled = statuses.filter((s) => s.stalledBy !== null);
  const stall = stalled[0]?.stalledBy;
  if (!stall) return [];
  const names = stalled.map((s) => s.name).join(', ');
  const clear = clearHorizonSql(stall);
  const where = stall.preparedGid !== null ? ` in database ${stall.database ?? '?'}` : '';
  return [
    `! ${names}: events committed ${duration(stall.waitingSeconds)} ago wait behind ${holderText(stall)}, a transaction that holds the event store's horizon back`,
    clear === undefined
      ? '  Run `keel projections status` again; if it persists, look for the oldest backend_xid in pg_stat_activity and in pg_prepared_xacts.'
      : `  End it (its work is rolled back) with: ${clear}${where}`,
  ];
};

export const statusJson = (s: ProjectionStatus) => ({
  ...s,
  position: s.position.toString(),
  head: s.head.toString(),
  updatedAt: s.updatedAt?.toISOString() ?? null,
  stalledBy: s.stalledBy === null ? null : { ...s.stalledBy, since: s.stalledBy.since?.toISOString() ?? null },
});

export const parkedText = (name: string, parked: readonly ParkedEvent[]): string => {
  if (parked.length === 0) return `No parked events in ${name}.`;
  const rows = parked.map((p) => [
    p.id,
    p.status,
    p.event.position.toString(),
    p.key,
    p.event.type,
    String(p.attempts),
    p.status === 'blocked' ? `waiting behind ${p.blockedBy ?? '?'}` : (p.error ?? '').replace(/\s+/g, ' ').slice(0, 100),
  ]);
  const roots = parked.filter((p) => p.status === 'parked');
  const first = roots[0]?.id ?? '<id>';
  return [
    table(['ID', 'STATUS', 'POSITION', 'KEY', 'TYPE', 'ATTEMPTS', 'ERROR'], rows),
    `${roots.length} parked, ${parked.length - roots.length} waiting behind them.`,
    `Fix the cause, then: keel projections retry ${name} --id ${first}   (or --all)`,
    `To give up on one:    keel projections skip ${name} --id ${first}   (its key's waiting events are then applied)`,
  ].join('\n');
};

export const parkedJson = (p: ParkedEvent) => ({
  id: p.id,
  status: p.status,
  key: p.key,
  blockedBy: p.blockedBy,
  error: p.error,
  attempts: p.attempts,
  parkedAt: p.parkedAt.toISOString(),
  position: p.event.position.toString(),
  eventId: p.event.id,
  streamId: p.event.streamId,
  type: p.event.type,
});
