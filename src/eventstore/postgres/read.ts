/**
 * Reading. `$all` is read only below the horizon: `pg_snapshot_xmin << 20`, computed in the same
 * statement (hence the same snapshot) as the read. Every transaction with a smaller id has
 * finished and later ones get larger ids, so no event can appear below the horizon afterwards:
 * delivery order is position order, and a position is a safe checkpoint.
 */
import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import { ValidationError } from '../../platform/errors.js';
import type { EventFilter, ReadAllOptions, ReadStreamOptions, RecordedEvent } from '../port.js';
import { readFailure } from './error-mapping.js';
import { toRecordedEvent } from './schema.js';
import type { EventRow, EventStoreDb } from './schema.js';

const PAGE_SIZE = 500;

const HORIZON = sql`(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20)`;

// created_at as epoch milliseconds (a float8: a JS number): parsing node-postgres' timestamptz
// text into a Date costs more than the rest of the row (the Date keeps milliseconds either way).
const eventColumns = (metadata: 'e.metadata' | 'null') =>
  sql.raw(`e.position::text as position, e.revision::text as revision, e.event_id::text as event_id, e.type,
  e.schema_version, e.data, ${metadata} as metadata, (extract(epoch from e.created_at) * 1000)::float8 as created_at`);
const COLUMNS = sql`e.stream_id, ${eventColumns('e.metadata')}`;

/** Every event at or below this position is final and readable. */
export const headPosition = async (db: EventStoreDb): Promise<bigint> => {
  const { rows } = await sql<{ head: string }>`select (${HORIZON} - 1)::text as head`.execute(db).catch((error: unknown) => {
    throw readFailure(error);
  });
  const [row] = rows;
  if (!row) throw new Error('headPosition returned no row');
  return BigInt(row.head);
};

const likePrefix = (prefix: string): string => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** `and …` restricting rows aliased `s` to the filter, or nothing. */
const filterSql = (filter: EventFilter): RawBuilder<unknown> => {
  const parts: RawBuilder<unknown>[] = [];
  const { eventTypes, streamPrefixes } = filter;
  if (eventTypes) parts.push(eventTypes.length > 0 ? sql`s.type in (${sql.join(eventTypes)})` : sql`false`);
  if (streamPrefixes) {
    const likes = streamPrefixes.map((p) => sql`s.stream_id like ${likePrefix(p)}`);
    parts.push(likes.length > 0 ? sql`(${sql.join(likes, sql` or `)})` : sql`false`);
  }
  return parts.length > 0 ? sql`and ${sql.join(parts, sql` and `)}` : sql``;
};

const isFiltered = (filter: EventFilter | undefined): filter is EventFilter =>
  filter !== undefined && (filter.eventTypes !== undefined || filter.streamPrefixes !== undefined);

/** A filtered read looks at no more than this many events per query, matching or not. */
export const SCAN_LIMIT = 5_000;

export interface Page {
  readonly events: RecordedEvent[];
  /** Everything matching up to here has been returned: the next read starts after it. */
  readonly next: bigint;
  /** The read reached the horizon: there is nothing more to read for now. */
  readonly complete: boolean;
  readonly horizon: bigint;
  /**
   * The highest committed position (-1 if none) in the same snapshot. At or above the horizon, it
   * means committed events wait for an older transaction (anywhere in the cluster) to finish.
   */
  readonly tail: bigint;
}

type PageRow = { horizon: string; tail: string; scanned: number; scanned_to: string | null } & (
  | { [K in keyof EventRow]: null }
  | EventRow
);

/**
 * Up to `limit` matching events after `after` (exclusive) and below the horizon, in position
 * order. With a filter, at most SCAN_LIMIT events are examined (positions and keys only), so a
 * filter that matches nothing still costs bounded work per read and still moves `next` forward.
 * `beyondHorizon` drops the horizon bound (every committed event: for counting lag only).
 */
export const readPage = async (db: EventStoreDb, after: bigint, limit: number, filter?: EventFilter, beyondHorizon = false): Promise<Page> => {
  const scan = isFiltered(filter) ? Math.max(limit, SCAN_LIMIT) : limit;
  const bound = beyondHorizon ? sql`` : sql`and s.position < h.horizon`;
  const matched = isFiltered(filter)
    ? sql`select s.position from scanned m join keel_events s on s.position = m.position
          where true ${filterSql(filter)} order by s.position limit ${limit}`
    : sql`select position from scanned`;
  const { rows } = await sql<PageRow>`
    with h as (
      select x.horizon, coalesce((select max(p.position) from keel_events p), -1) as tail
      from (select ${HORIZON} as horizon) x
    ),
    scanned as materialized (
      select s.position from h, keel_events s
      where s.position > ${after.toString()}::bigint ${bound}
      order by s.position limit ${scan}
    ),
    matched as (${matched})
    select h.horizon::text as horizon, h.tail::text as tail,
           (select count(*) from scanned)::integer as scanned, (select max(position) from scanned)::text as scanned_to,
           ${COLUMNS}
    from h left join (matched m join keel_events e on e.position = m.position) on true
    order by e.position`.execute(db).catch((error: unknown) => {
    throw readFailure(error);
  });
  const [first] = rows;
  if (!first) throw new Error('readPage returned no row');
  const events: RecordedEvent[] = [];
  for (const row of rows) if (row.position !== null) events.push(toRecordedEvent(row, row.stream_id));
  const horizon = BigInt(first.horizon);
  const last = events.at(-1)?.position;
  let next: bigint;
  if (events.length === limit && last !== undefined) next = last; // a full page: more may match
  else if (first.scanned < scan) next = horizon - 1n; // reached the horizon
  else next = BigInt(first.scanned_to ?? after); // scanned its fill without matching a full page
  const complete = events.length < limit && first.scanned < scan;
  return { events, next: next > after ? next : after, complete, horizon, tail: BigInt(first.tail) };
};

const checkMaxCount = (maxCount: number | undefined): number => {
  if (maxCount === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(maxCount) || maxCount < 0) throw new ValidationError('maxCount', 'must be an integer >= 0');
  return maxCount;
};

export async function* readAll(db: EventStoreDb, options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
  let after = options.after ?? -1n;
  let remaining = checkMaxCount(options.maxCount);
  while (remaining > 0) {
    const limit = Math.min(PAGE_SIZE, remaining);
    const page = await readPage(db, after, limit, options.filter, options.beyondHorizon === true);
    for (const event of page.events) yield event;
    remaining -= page.events.length;
    if (page.complete) return;
    after = page.next;
  }
}

/** Pages of a long stream read grow from PAGE_SIZE to this (one round trip per 5,000 events). */
const STREAM_PAGE_MAX = 5_000;

/** A stream's rows need no stream id (it is the one asked for), and no metadata when skipped. */
const STREAM_COLUMNS = eventColumns('e.metadata');
const STREAM_COLUMNS_NO_METADATA = eventColumns('null');

/**
 * A stream's committed events by revision (no horizon: a stream's own order is its revisions).
 * The next page is fetched while the current one is consumed, and pages grow while the stream
 * goes on, so a long fold (replay, a hot SKU's load) waits on PostgreSQL as little as possible.
 */
export async function* readStream(db: EventStoreDb, streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
  const backwards = options.direction === 'backwards';
  const columns = options.skipMetadata === true ? STREAM_COLUMNS_NO_METADATA : STREAM_COLUMNS;
  let remaining = checkMaxCount(options.maxCount);
  const fetchPage = (from: bigint | undefined, limit: number) => {
    const bound = from === undefined ? sql`` : sql`and e.revision ${sql.raw(backwards ? '<=' : '>=')} ${from.toString()}::bigint`;
    return sql<Omit<EventRow, 'stream_id'>>`
      select ${columns} from keel_events e where e.stream_id = ${streamId} ${bound}
      order by e.revision ${sql.raw(backwards ? 'desc' : 'asc')} limit ${limit}`.execute(db).catch((error: unknown) => {
      throw readFailure(error);
    });
  };
  let limit = Math.min(PAGE_SIZE, remaining);
  let pending: ReturnType<typeof fetchPage> | undefined = limit > 0 ? fetchPage(options.fromRevision, limit) : undefined;
  try {
    while (pending !== undefined) {
      const { rows } = await pending;
      pending = undefined;
      remaining -= rows.length;
      const last = rows.at(-1);
      if (rows.length === limit && remaining > 0 && last !== undefined) {
        const lastRevision = BigInt(last.revision);
        if (!(backwards && lastRevision === 0n)) {
          limit = Math.min(limit * 2, STREAM_PAGE_MAX, remaining);
          pending = fetchPage(backwards ? lastRevision - 1n : lastRevision + 1n, limit);
        }
      }
      for (const row of rows) yield toRecordedEvent(row, streamId);
    }
  } finally {
    // A consumer that stopped early: the page fetched ahead is not wanted (nor its error).
    pending?.catch(() => {});
  }
}
