/**
 * What holds the subscription horizon back. The horizon is `pg_snapshot_xmin << 20`: the oldest
 * transaction still running ANYWHERE in the cluster (another database, an idle-in-transaction
 * session, a prepared transaction) keeps every later commit undeliverable until it ends. This reads,
 * in one statement (one snapshot): the horizon's transaction id, the oldest committed event at or
 * above it (none: nothing waits, no stall), and the session (`pg_stat_activity`, every database)
 * or prepared transaction (`pg_prepared_xacts`) whose transaction id is that xmin.
 *
 * `pg_snapshot_xmin` is a 64-bit xid8 (epoch and xid); `backend_xid` and a prepared transaction's
 * `transaction` are 32-bit xids, the low 32 bits of their xid8. Only running transactions are
 * compared, all within 2^31 of each other, so the low 32 bits identify the xmin's transaction.
 */
import { sql } from 'kysely';
import type { HorizonStall } from '../port.js';
import type { EventStoreDb } from './schema.js';

interface StallRow {
  xmin: string;
  waiting_seconds: number;
  pid: number | null;
  database: string | null;
  application: string | null;
  state: string | null;
  since: Date | string | null;
  age_seconds: number | null;
  gid: string | null;
  owner: string | null;
}

const toDate = (value: Date | string | null): Date | null => (value === null ? null : value instanceof Date ? value : new Date(value));

/** null when no committed event waits at or above the horizon. */
export const readHorizonStall = async (db: EventStoreDb): Promise<HorizonStall | null> => {
  const { rows } = await sql<StallRow>`
    with h as (select pg_snapshot_xmin(pg_current_snapshot())::text::bigint as xmin),
    waiting as (
      select e.created_at from keel_events e
      where e.position >= (select h.xmin << 20 from h)
      order by e.position limit 1
    ),
    holders as (
      select a.pid, a.datname::text as database, a.application_name::text as application, a.state::text as state,
             a.xact_start as since, a.usename::text as owner, null::text as gid, a.backend_xid::text::bigint as xid
      from pg_stat_activity a
      where a.backend_xid is not null and a.pid <> pg_backend_pid()
      union all
      select null::integer, p.database::text, null::text, 'prepared', p.prepared, p.owner::text, p.gid,
             p.transaction::text::bigint
      from pg_prepared_xacts p
    )
    select h.xmin::text as xmin,
           greatest(0, extract(epoch from clock_timestamp() - w.created_at))::float8 as waiting_seconds,
           x.pid, x.database, x.application, x.state, x.since,
           greatest(0, extract(epoch from clock_timestamp() - x.since))::float8 as age_seconds,
           x.gid, x.owner
    from h
    join waiting w on true
    left join lateral (select * from holders where holders.xid = h.xmin % 4294967296 limit 1) x on true`.execute(db);
  const [row] = rows;
  if (!row) return null;
  return {
    xid: row.xmin,
    waitingSeconds: row.waiting_seconds,
    pid: row.pid,
    database: row.database,
    application: row.application,
    state: row.state,
    since: toDate(row.since),
    ageSeconds: row.age_seconds,
    preparedGid: row.gid,
    user: row.owner,
  };
};

/**
 * The age of the transaction at the horizon: the session or prepared transaction whose id is
 * `pg_snapshot_xmin`, as in `readHorizonStall`, but whether or not an event waits behind it. 0
 * when nothing runs (the xmin is then the next transaction id, which nobody holds).
 */
export const readHorizonAge = async (db: EventStoreDb): Promise<number> => {
  const { rows } = await sql<{ age: number | null }>`
    with h as (select pg_snapshot_xmin(pg_current_snapshot())::text::bigint % 4294967296 as xid)
    select greatest(0, extract(epoch from clock_timestamp() - min(since)))::float8 as age from (
      select a.xact_start as since from pg_stat_activity a, h
      where a.backend_xid is not null and a.pid <> pg_backend_pid() and a.backend_xid::text::bigint = h.xid
      union all
      select p.prepared from pg_prepared_xacts p, h where p.transaction::text::bigint = h.xid
    ) holders`.execute(db);
  return rows[0]?.age ?? 0;
};
