/**
 * One line naming what holds the event store's horizon back, and the SQL that clears it: for
 * GET /ready, the CLI's status and logs (a `ProjectionStatus.stalledBy`).
 */
import type { HorizonStall } from '../../eventstore/port.js';

const quoted = (text: string): string => `'${text.replace(/'/g, "''")}'`;

const iso = (date: Date | null): string => (date === null ? 'an unknown time' : date.toISOString().replace(/\.\d{3}Z$/, 'Z'));

/**
 * e.g. `pid 4242 (database billing, application psql, idle in transaction since 2026-12-03T13:14:57Z)`
 * or `prepared transaction 'tx-1' (database billing, prepared 2026-12-03T13:14:57Z)`.
 */
export const holderText = (stall: HorizonStall): string => {
  const database = `database ${stall.database ?? '?'}`;
  if (stall.preparedGid !== null) return `prepared transaction ${quoted(stall.preparedGid)} (${database}, prepared ${iso(stall.since)})`;
  if (stall.pid !== null) {
    const application = stall.application === null || stall.application === '' ? '' : `, application ${stall.application}`;
    return `pid ${stall.pid} (${database}${application}, ${stall.state ?? 'in a transaction'} since ${iso(stall.since)})`;
  }
  return `transaction ${stall.xid} (not found in pg_stat_activity or pg_prepared_xacts: it may just have ended)`;
};

/** The statement an operator runs to end the holder, or undefined when it was not found. */
export const clearHorizonSql = (stall: HorizonStall): string | undefined => {
  if (stall.preparedGid !== null) return `ROLLBACK PREPARED ${quoted(stall.preparedGid)}`;
  if (stall.pid !== null) return `SELECT pg_terminate_backend(${stall.pid})`;
  return undefined;
};
