/**
 * Lineage of a read-model key, behind `keel projections trace` and `keel projections diff`.
 *
 * `traceKey`: every event that wrote the rows of a key, in position order: a scan of the
 * projection's event types (page by page) keeping the events whose lineage keys
 * (`Projection.lineageKeysOf`, default `[keyOf]`) include the key.
 *
 * `diffKey`: drift detection. The key's rows are rebuilt from the log into a scratch schema
 * (`rm_<name>__diff_<random>`): its events up to the live checkpoint, plus the events of the keys
 * they read from (`Projection.lineageInputsOf`), applied as a rebuild would. They are then compared
 * row by row (by primary key) with the live rows of the key (`Projection.rowsOfKey`), read in one
 * short snapshot together with the checkpoint. Nothing is written to the live schema; the scratch
 * schema is always dropped.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { EventStore, RecordedEvent } from '../../eventstore/port.js';
import type { DatabaseHandle } from '../../platform/database.js';
import { liveSchemaOf, type Projection } from '../projection.js';
import { readControl } from './control-store.js';
import { listParked } from './parked-store.js';
import { createSchema, dropSchema } from './schemas.js';

/** A refusal or failure of trace/diff with a message that says what to do; `usage`: the request cannot work as asked. */
export class LineageError extends Error {
  constructor(
    message: string,
    readonly usage = false,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'LineageError';
  }
}

export interface ScanProgress {
  /** Events of the projection's types read so far in this pass. */
  readonly read: number;
  readonly matched: number;
  readonly position: bigint;
  /** 1 for the key's own events; diff scans again for the events they read from. */
  readonly pass: number;
}

export interface LineageOptions {
  readonly store: EventStore;
  readonly projection: Projection;
  readonly key: string;
  /** Called every few thousand events read (a long scan). */
  readonly onProgress?: (progress: ScanProgress) => void;
}

/** One event of a key's lineage, as `trace` shows it. */
export interface TracedEvent {
  readonly position: bigint;
  readonly eventId: string;
  readonly streamId: string;
  readonly revision: bigint;
  readonly type: string;
  /** When it was decided (metadata timestamp), else when it was stored; ISO-8601 UTC. */
  readonly time: string;
  readonly commandId: string | null;
  readonly correlationId: string | null;
}

export interface TraceResult {
  readonly name: string;
  readonly key: string;
  readonly events: readonly TracedEvent[];
}

const PROGRESS_EVERY = 5_000;
const APPLY_BATCH = 500;
/** Diff follows inputs of inputs; a chain longer than this is a modelling error, not data. */
const MAX_PASSES = 6;

/** The keys whose rows `event` writes (default: its keyOf). */
export const lineageKeysOf = (projection: Projection, event: RecordedEvent): readonly string[] =>
  projection.lineageKeysOf?.(event) ?? [projection.keyOf(event)];

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

const timeOf = (event: RecordedEvent): string => {
  const stamp = event.metadata.timestamp;
  return typeof stamp === 'string' && !Number.isNaN(Date.parse(stamp)) ? new Date(stamp).toISOString() : event.createdAt.toISOString();
};

export const tracedEvent = (event: RecordedEvent): TracedEvent => ({
  position: event.position,
  eventId: event.id,
  streamId: event.streamId,
  revision: event.revision,
  type: event.type,
  time: timeOf(event),
  commandId: text(event.metadata.commandId),
  correlationId: text(event.metadata.correlationId),
});

/** The projection's events (whole log, page by page) whose lineage keys meet `keys`, in position order. */
const scan = async (options: LineageOptions, keys: ReadonlySet<string>, pass: number): Promise<RecordedEvent[]> => {
  const { store, projection, onProgress } = options;
  const found: RecordedEvent[] = [];
  let read = 0;
  for await (const event of store.readAll({ filter: { eventTypes: projection.eventTypes } })) {
    if (!projection.eventTypes.includes(event.type)) continue;
    read += 1;
    if (lineageKeysOf(projection, event).some((k) => keys.has(k))) found.push(event);
    if (read % PROGRESS_EVERY === 0) onProgress?.({ read, matched: found.length, position: event.position, pass });
  }
  return found;
};

/** Every event that wrote the rows of `key` in the projection, oldest first. */
export const traceKey = async (options: LineageOptions): Promise<TraceResult> => {
  const events = await scan(options, new Set([options.key]), 1);
  return { name: options.projection.name, key: options.key, events: events.map(tracedEvent) };
};

// ---------------------------------------------------------------------------------------------
// diff

/** A row as text: every column's value as PostgreSQL prints it (null for NULL), in column order. */
export type RowValues = Readonly<Record<string, string | null>>;

export interface ChangedRow {
  /** The primary key's columns and values. */
  readonly key: RowValues;
  readonly columns: readonly { readonly column: string; readonly live: string | null; readonly rebuilt: string | null }[];
}

export interface TableDiff {
  readonly table: string;
  /** The column that holds the key (Projection.rowsOfKey). */
  readonly column: string;
  readonly primaryKey: readonly string[];
  readonly liveRows: number;
  readonly rebuiltRows: number;
  /** Rows the log gives that the live table lacks. */
  readonly missingInLive: readonly RowValues[];
  /** Rows of the key in the live table that the log does not give. */
  readonly extraInLive: readonly RowValues[];
  readonly changed: readonly ChangedRow[];
}

export interface DiffResult {
  readonly name: string;
  readonly key: string;
  /** The live checkpoint: both sides hold the events up to it. */
  readonly position: bigint;
  /** Events of the key applied (those whose lineage keys include it). */
  readonly events: number;
  /** Events of other keys the key's events read from, applied too. */
  readonly inputs: number;
  /** Events of the key after the checkpoint: not projected yet, left out of both sides. */
  readonly later: number;
  /** Events of the key parked in the live generation: their effects are missing from the live rows. */
  readonly parked: number;
  readonly tables: readonly TableDiff[];
  /** Tables whose rows are not keyed (not in Projection.rowsOfKey): not compared. */
  readonly notCompared: readonly string[];
  readonly drift: boolean;
}

export interface DiffOptions extends LineageOptions {
  readonly handle: DatabaseHandle;
  /** Events per scratch transaction (default 500). */
  readonly batchSize?: number;
}

/** `rm_<name>__diff_<random>`: never a live, build or old generation's schema. */
export const scratchSchemaOf = (name: string): string => `rm_${name}__diff_${randomBytes(4).toString('hex')}`;

/** The tables diff compares, with the column holding the key; refuses a projection that keys none. */
const keyedTables = (projection: Projection): { table: string; column: string }[] => {
  const columns = projection.rowsOfKey ?? {};
  const keyed = projection.tables.flatMap((table) => {
    const column = columns[table];
    return column === undefined ? [] : [{ table, column }];
  });
  if (keyed.length === 0) {
    throw new LineageError(`${projection.name} does not say which of its rows belong to a key (Projection.rowsOfKey), so diff cannot compare them; trace works: keel projections trace ${projection.name} <key>`, true);
  }
  return keyed;
};

/** The live checkpoint, refusing a projection that never ran or whose live tables are another version. */
const liveCheckpoint = async (db: Kysely<unknown>, projection: Projection): Promise<bigint> => {
  const control = await readControl(db, projection.name);
  if (control === undefined) {
    throw new LineageError(`${projection.name} has never run, so it has no live rows to compare: start a projector first (keel serve --role projector).`);
  }
  if (control.version !== projection.version) {
    throw new LineageError(`The live tables of ${projection.name} are version ${control.version} and this code is version ${projection.version}, so a rebuild from this code is not comparable with them. Rebuild first: keel projections rebuild ${projection.name}`);
  }
  return control.position;
};

/** The rows of `key` in `schema.table`, every value as text (int8 stays exact), column order kept. */
const rowsOfKey = async (db: Kysely<unknown>, schema: string, table: string, column: string, key: string): Promise<RowValues[]> => {
  const { rows } = await sql<{ row: string }>`select (
      select json_object_agg(f.key, f.value order by f.n) from json_each_text(to_json(t)) with ordinality as f(key, value, n)
    )::text as row
    from ${sql.id(schema, table)} t where ${sql.ref(`t.${column}`)}::text = ${key}`.execute(db);
  return rows.map((r) => JSON.parse(r.row) as RowValues);
};

/** The primary key's columns of `schema.table`, in key order (none: rows are compared whole). */
const primaryKeyOf = async (db: Kysely<unknown>, schema: string, table: string): Promise<string[]> => {
  const { rows } = await sql<{ column: string }>`select a.attname as column
    from pg_index i
    join pg_class c on c.oid = i.indrelid
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum = any(i.indkey)
    where n.nspname = ${schema} and c.relname = ${table} and i.indisprimary
    order by array_position(i.indkey::int2[], a.attnum)`.execute(db);
  return rows.map((r) => r.column);
};

interface LiveSnapshot {
  readonly position: bigint;
  readonly rows: ReadonlyMap<string, RowValues[]>;
}

/** The checkpoint and the key's live rows in one short read-only snapshot (the runner writes both in one transaction). */
const readLive = (db: Kysely<unknown>, projection: Projection, tables: readonly { table: string; column: string }[], key: string): Promise<LiveSnapshot> =>
  db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const position = await liveCheckpoint(trx, projection);
      const rows = new Map<string, RowValues[]>();
      for (const { table, column } of tables) rows.set(table, await rowsOfKey(trx, liveSchemaOf(projection.name), table, column, key));
      return { position, rows };
    });

interface Lineage {
  /** Events to apply, in position order: the key's and its inputs', up to the checkpoint. */
  readonly events: readonly RecordedEvent[];
  readonly own: number;
  readonly later: number;
}

/** Keys the events read from that are not in `keys` yet. */
const newInputs = (projection: Projection, events: readonly RecordedEvent[], keys: ReadonlySet<string>): string[] => {
  const inputs = new Set(events.flatMap((e) => projection.lineageInputsOf?.(e) ?? []));
  return [...inputs].filter((k) => !keys.has(k));
};

/** The key's events and, transitively, the events of the keys they read from (one scan per step). */
const collectLineage = async (options: LineageOptions, upTo: bigint): Promise<Lineage> => {
  const { projection, key } = options;
  const keys = new Set([key]);
  for (let pass = 1; ; pass++) {
    const found = await scan(options, keys, pass);
    const events = found.filter((e) => e.position <= upTo);
    const needed = newInputs(projection, events, keys);
    if (needed.length === 0) {
      const isOwn = (e: RecordedEvent) => lineageKeysOf(projection, e).includes(key);
      return { events, own: events.filter(isOwn).length, later: found.filter((e) => e.position > upTo && isOwn(e)).length };
    }
    if (pass >= MAX_PASSES) throw new LineageError(`The events of ${key} in ${projection.name} read from other keys more than ${MAX_PASSES} steps deep (Projection.lineageInputsOf); diff gives up.`);
    for (const k of needed) keys.add(k);
  }
};

/** Applies the events into the scratch schema as a rebuild does, in batches, each in its transaction. */
const applyInto = async (db: Kysely<unknown>, projection: Projection, schema: string, events: readonly RecordedEvent[], size: number): Promise<void> => {
  for (let i = 0; i < events.length; i += size) {
    const batch = events.slice(i, i + size);
    try {
      await db.transaction().execute((trx) => projection.apply(trx, batch, { schema, rebuilding: true }));
    } catch (error) {
      const span = `${batch[0]?.position ?? '?'}..${batch.at(-1)?.position ?? '?'}`;
      const reason = error instanceof Error ? error.message : String(error);
      throw new LineageError(`Rebuilding the rows in a scratch schema failed while applying the events at positions ${span}: ${reason}. If the live model parked the same event, see: keel projections parked ${projection.name}`, false, { cause: error });
    }
  }
};

const identity = (primaryKey: readonly string[], row: RowValues): string =>
  JSON.stringify(primaryKey.length > 0 ? primaryKey.map((c) => row[c] ?? null) : Object.entries(row));

const pick = (row: RowValues, columns: readonly string[]): RowValues => Object.fromEntries(columns.map((c) => [c, row[c] ?? null]));

const changedColumns = (live: RowValues, rebuilt: RowValues): ChangedRow['columns'] => {
  const columns = [...new Set([...Object.keys(rebuilt), ...Object.keys(live)])];
  return columns.flatMap((column) => {
    const [l, r] = [live[column] ?? null, rebuilt[column] ?? null];
    return l === r ? [] : [{ column, live: l, rebuilt: r }];
  });
};

/** Row-by-row comparison by primary key (whole rows when there is none). */
export const compareRows = (
  table: { readonly table: string; readonly column: string; readonly primaryKey: readonly string[] },
  live: readonly RowValues[],
  rebuilt: readonly RowValues[],
): TableDiff => {
  const byId = (rows: readonly RowValues[]) => new Map(rows.map((row) => [identity(table.primaryKey, row), row]));
  const [liveById, rebuiltById] = [byId(live), byId(rebuilt)];
  const ids = [...new Set([...rebuiltById.keys(), ...liveById.keys()])].sort();
  const missingInLive: RowValues[] = [];
  const extraInLive: RowValues[] = [];
  const changed: ChangedRow[] = [];
  for (const id of ids) {
    const [l, r] = [liveById.get(id), rebuiltById.get(id)];
    if (l === undefined && r !== undefined) missingInLive.push(r);
    else if (r === undefined && l !== undefined) extraInLive.push(l);
    else if (l !== undefined && r !== undefined) {
      const columns = changedColumns(l, r);
      if (columns.length > 0) changed.push({ key: pick(r, table.primaryKey), columns });
    }
  }
  return { ...table, liveRows: live.length, rebuiltRows: rebuilt.length, missingInLive, extraInLive, changed };
};

const hasDrift = (t: TableDiff): boolean => t.missingInLive.length + t.extraInLive.length + t.changed.length > 0;

/** Events of the key parked (or waiting behind one) in the live generation. */
const parkedOfKey = async (db: Kysely<unknown>, projection: Projection, key: string): Promise<number> => {
  const generation = (await readControl(db, projection.name))?.generation;
  if (generation === undefined) return 0;
  const parked = await listParked(db, projection.name, generation);
  return parked.filter((p) => p.key === key || lineageKeysOf(projection, p.event).includes(key)).length;
};

/** Each keyed table's rebuilt rows of `key` (in `scratch`) against its live ones. */
const compareTables = async (
  db: Kysely<unknown>,
  scratch: string,
  tables: readonly { table: string; column: string }[],
  live: LiveSnapshot,
  key: string,
): Promise<TableDiff[]> => {
  const diffs: TableDiff[] = [];
  for (const { table, column } of tables) {
    const primaryKey = await primaryKeyOf(db, scratch, table);
    diffs.push(compareRows({ table, column, primaryKey }, live.rows.get(table) ?? [], await rowsOfKey(db, scratch, table, column, key)));
  }
  return diffs;
};

/** Rebuilds the rows of `key` in a scratch schema and compares them with the live rows; the scratch schema is always dropped. */
export const diffKey = async (options: DiffOptions): Promise<DiffResult> => {
  const { handle, projection, key } = options;
  const { db } = handle;
  const tables = keyedTables(projection);
  await liveCheckpoint(db, projection); // refuse early, before any scratch schema exists
  const scratch = scratchSchemaOf(projection.name);
  // One transaction: the schema exists with its tables, or not at all (and is then not ours to drop).
  await db.transaction().execute(async (trx) => {
    await createSchema(trx, scratch);
    await projection.createTables(trx, scratch);
  });
  try {
    const live = await readLive(db, projection, tables, key);
    const lineage = await collectLineage(options, live.position);
    await applyInto(db, projection, scratch, lineage.events, options.batchSize ?? APPLY_BATCH);
    const diffs = await compareTables(db, scratch, tables, live, key);
    return {
      name: projection.name,
      key,
      position: live.position,
      events: lineage.own,
      inputs: lineage.events.length - lineage.own,
      later: lineage.later,
      parked: await parkedOfKey(db, projection, key),
      tables: diffs,
      notCompared: projection.tables.filter((t) => !tables.some((k) => k.table === t)),
      drift: diffs.some(hasDrift),
    };
  } finally {
    await dropSchema(db, scratch);
  }
};
