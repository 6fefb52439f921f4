/**
 * A minimal projector on Keel's subscription, for the peer harness's read model: it subscribes
 * after its checkpoint with an event-type filter and applies the harness's SQL in batches, each
 * batch in ONE transaction together with its checkpoint row (so a crash neither loses nor doubles
 * an effect). A batch's statements go out as one multi-statement simple query. A batch ends at
 * `batchSize` events, at a checkpoint or caught-up message, or as soon as the subscription pauses
 * (it is reading its next page): in practice one transaction per page. While one batch commits,
 * the subscription already reads the next page (at most one batch in flight).
 */
import { sql } from 'kysely';
import type { EventStore, RecordedEvent } from '../../src/eventstore/port.js';
import type { UntypedDatabase } from '../../src/platform/database.js';

export const CHECKPOINT_TABLE = 'bench_keel_checkpoint';
/** A partial batch is written once the subscription has handed over nothing for this long. */
const IDLE_FLUSH_MS = 5;

export const checkpointDDL = `CREATE TABLE IF NOT EXISTS ${CHECKPOINT_TABLE} (
  name TEXT PRIMARY KEY,
  position BIGINT NOT NULL
)`;

export interface SqlProjectorOptions {
  readonly store: EventStore;
  readonly db: UntypedDatabase;
  /** Checkpoint row name: lower-case letters, digits and '_'. */
  readonly name: string;
  readonly eventTypes: readonly string[];
  /** One SQL statement (no trailing ';') per event. */
  readonly toSql: (event: RecordedEvent) => string;
  /** Events per transaction (and the subscription's page size while catching up). */
  readonly batchSize: number;
  readonly signal: AbortSignal;
  /** Stop once caught up at or past this position (undefined: tail until `signal` aborts). */
  readonly stopAt?: bigint;
}

export interface ProjectorRun {
  readonly eventsHandled: number;
  readonly batches: number;
}

const readCheckpoint = async (db: UntypedDatabase, name: string): Promise<bigint | undefined> => {
  const { rows } = await sql<{ position: string }>`
    select position::text as position from ${sql.table(CHECKPOINT_TABLE)} where name = ${name}`.execute(db);
  const [row] = rows;
  return row ? BigInt(row.position) : undefined;
};

const applyBatch = (db: UntypedDatabase, name: string, statements: readonly string[], checkpoint: bigint): Promise<void> =>
  db.transaction().execute(async (trx) => {
    const upsert = `INSERT INTO ${CHECKPOINT_TABLE}(name, position) VALUES ('${name}', ${checkpoint.toString()})
      ON CONFLICT (name) DO UPDATE SET position = excluded.position`;
    // No parameters: node-postgres sends it as one simple query, several statements in one round trip.
    await sql.raw([...statements, upsert].join(';\n')).execute(trx);
  });

/** Resolves with `promise`'s result, or with IDLE if it takes longer than `ms`. */
const IDLE = Symbol('idle');
const orIdle = async <T>(promise: Promise<T>, ms: number): Promise<T | typeof IDLE> => {
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<typeof IDLE>((resolve) => {
    timer = setTimeout(() => resolve(IDLE), ms);
  });
  try {
    return await Promise.race([promise, idle]);
  } finally {
    clearTimeout(timer);
  }
};

export const runSqlProjector = async (options: SqlProjectorOptions): Promise<ProjectorRun> => {
  const { store, db, name, eventTypes, toSql, batchSize, signal, stopAt } = options;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`Invalid projector name "${name}".`);
  await sql.raw(checkpointDDL).execute(db);
  const after = await readCheckpoint(db, name);
  let buffer: string[] = [];
  let inFlight: Promise<void> = Promise.resolve();
  let eventsHandled = 0;
  let batches = 0;
  let caughtUp = false;
  let committed = after ?? -1n;
  let delivered = committed;

  /** Waits for the batch in flight, then sends this one without waiting for it. */
  const flush = async (checkpoint: bigint): Promise<void> => {
    if (buffer.length === 0 && checkpoint <= committed) return;
    await inFlight;
    const statements = buffer;
    buffer = [];
    committed = checkpoint;
    batches += 1;
    const sent = applyBatch(db, name, statements, checkpoint);
    sent.catch(() => {}); // surfaces at the next `await inFlight`
    inFlight = sent;
  };
  /** Caught up (the subscription said so) and past every event that existed at the start. */
  const done = (): boolean => caughtUp && stopAt !== undefined && delivered >= stopAt;

  const subscription = store.subscribe({
    ...(after === undefined ? {} : { after }),
    filter: { eventTypes },
    signal,
    batchSize,
  })[Symbol.asyncIterator]();
  try {
    while (!done()) {
      const next = subscription.next();
      // A partial batch is written as soon as the subscription has nothing more to hand over
      // right away: a consumer must not depend on which control messages follow an event.
      let result = buffer.length > 0 ? await orIdle(next, IDLE_FLUSH_MS) : await next;
      if (result === IDLE) {
        await flush(delivered);
        result = await next;
      }
      if (result.done) break;
      const message = result.value;
      if (message.kind === 'event') {
        buffer.push(toSql(message.event));
        eventsHandled += 1;
        delivered = message.event.position;
        if (buffer.length >= batchSize || done()) await flush(delivered);
      } else if (message.kind === 'checkpoint' || message.kind === 'caught-up') {
        caughtUp ||= message.kind === 'caught-up';
        if (message.position > delivered) delivered = message.position;
        await flush(delivered);
      }
    }
    if (done()) await flush(delivered);
  } finally {
    await subscription.return?.(undefined);
  }
  await inFlight;
  return { eventsHandled, batches };
};
