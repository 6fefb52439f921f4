/**
 * The database connection: node-postgres when a URL is configured, embedded PGlite otherwise.
 * Both speak the same SQL through kysely, so every query is written once.
 *
 * int8 columns: PGlite returns them as JS numbers or bigints depending on size and node-postgres as
 * strings, so queries select bigint columns as `::text` and convert with BigInt (positions exceed
 * 2^53 on old clusters).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CompiledQuery, Kysely, Migrator, PostgresDialect } from 'kysely';
import type { Migration, MigrationResult } from 'kysely';
import pg from 'pg';
import { KeelError } from './errors.js';

/** Called with the payload of each notification, and with `undefined` after a reconnect (some may be lost). */
export type NotifyHandler = (payload: string | undefined) => void;

/**
 * Untyped on purpose: each module narrows it to its own tables with `db.withTables<Tables>()`,
 * so no module has to know every other module's schema.
 */
export type UntypedDatabase = Kysely<unknown>;

/** A connection of its own, outside the pool, for session state such as advisory locks. */
export interface DedicatedSession {
  query(text: string, values?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** Resolves (never rejects) once the connection is lost or released: its session state is gone. */
  readonly lost: Promise<void>;
  release(): Promise<void>;
}

export interface DatabaseHandle {
  readonly kind: 'postgres' | 'pglite';
  readonly db: UntypedDatabase;
  /** LISTEN on `channel` (lower-case identifier). The returned function stops listening. */
  listen(channel: string, onNotify: NotifyHandler): Promise<() => Promise<void>>;
  /** A dedicated connection (node-postgres); `undefined` on PGlite, which has one session only. */
  dedicated(): Promise<DedicatedSession | undefined>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres://… ; absent means embedded PGlite in `dataDir`. */
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  /** node-postgres pool size (default 16). Ignored by PGlite, which has one session. */
  readonly poolSize?: number | undefined;
}

export const DEFAULT_POOL_SIZE = 16;

/**
 * How long opening a connection (and waiting for a free one in the pool) may take. node-postgres
 * waits for ever by default, so a server that stops answering (a partition) would hang every
 * request that needs a new connection. Queries on open connections are bounded only by the URL's
 * `query_timeout` parameter (docs/operations/degradation-and-tls.md).
 */
export const CONNECT_TIMEOUT_MS = 5_000;

export const openDatabase = async (options: OpenDatabaseOptions): Promise<DatabaseHandle> =>
  options.databaseUrl ? openPostgres(options.databaseUrl, options.poolSize ?? DEFAULT_POOL_SIZE) : openPglite(options.dataDir);

const openPostgres = async (url: string, poolSize: number): Promise<DatabaseHandle> => {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: 'keel', connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // A client that loses its server emits 'error': on the pool while idle, on the client itself
  // while checked out (pg-pool removes its own listener then). Unhandled, either would crash the
  // process; the query in flight already fails with the error, and pg-pool discards the broken
  // client on release, so the next checkout opens a new connection.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const listener = new PgListener(url);
  return {
    kind: 'postgres',
    db,
    listen: (channel, onNotify) => listener.listen(channel, onNotify),
    dedicated: () => openDedicated(url),
    close: async () => {
      await listener.close();
      await db.destroy();
    },
  };
};

const openDedicated = async (url: string): Promise<DedicatedSession> => {
  const client = new pg.Client({ connectionString: url, application_name: 'keel-session', connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  let markLost: () => void = () => {};
  const lost = new Promise<void>((resolve) => (markLost = resolve));
  client.on('error', () => markLost());
  client.on('end', () => markLost());
  await client.connect();
  // One statement at a time: pg 8 queues overlapping queries on a client but deprecates doing so.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    query: (text, values) => {
      const run = queue.then(async () => (await client.query(text, values === undefined ? undefined : [...values])).rows);
      queue = run.catch(() => {});
      return run;
    },
    lost,
    release: async () => {
      markLost();
      await client.end().catch(() => {});
    },
  };
};

/**
 * PGlite keeps its files in one directory that only one process may open. A lock file holding the
 * owner's pid turns a second opener (`keel projections …` while `npm start` runs) into a clear
 * error instead of a hang or a corrupted directory. A lock left by a dead process is taken over.
 */
const lockedHere = new Set<string>();

const lockDataDir = async (dataDir: string): Promise<() => Promise<void>> => {
  const file = join(dataDir, 'keel.pid');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx' });
      lockedHere.add(file);
      return async () => {
        lockedHere.delete(file);
        await rm(file, { force: true });
      };
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
    }
    const owner = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
    // Our own pid in a file we did not write: left by an earlier process that had our pid (a
    // restarted container is pid 1 again), so it is stale.
    const mine = owner === process.pid && !lockedHere.has(file);
    if (Number.isInteger(owner) && owner > 0 && !mine && isAlive(owner)) {
      throw new KeelError(
        'KEEL_ERR_DATA_DIR_LOCKED',
        `The embedded database in ${dataDir} is in use by another Keel process (pid ${owner}). ` +
          `Stop that process first (Ctrl-C where \`npm start\` runs), or point both at a PostgreSQL server with DATABASE_URL.`,
        { dataDir, pid: owner },
      );
    }
    await rm(file, { force: true }); // stale: its owner is gone
  }
  throw new KeelError('KEEL_ERR_DATA_DIR_LOCKED', `Could not lock the embedded database in ${dataDir}.`, { dataDir });
};

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
};

const openPglite = async (dataDir: string): Promise<DatabaseHandle> => {
  await mkdir(dataDir, { recursive: true });
  const unlock = await lockDataDir(dataDir);
  // Loaded on demand: a process on PostgreSQL never needs the embedded database (nor its load time).
  const [{ PGlite }, { PGliteDialect }] = await Promise.all([import('@electric-sql/pglite'), import('kysely-pglite-dialect')]);
  const pglite = await PGlite.create({ dataDir }).catch(async (error: unknown) => {
    await unlock();
    throw error;
  });
  const db = new Kysely<unknown>({ dialect: new PGliteDialect(pglite) });
  const handlers = new Map<string, Set<NotifyHandler>>();
  pglite.onNotification((channel, payload) => {
    for (const handler of handlers.get(channel) ?? []) handler(payload);
  });
  // LISTEN goes through kysely, not pglite.listen: PGlite has one session and kysely serialises
  // access to it, so a LISTEN sent beside kysely could land inside someone's open transaction.
  const run = async (statement: string): Promise<void> => {
    await db.executeQuery(CompiledQuery.raw(statement));
  };
  return {
    kind: 'pglite',
    db,
    listen: async (channel, onNotify) => {
      assertChannel(channel);
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        await run(`LISTEN "${channel}"`);
      }
      set.add(onNotify);
      const registered = set;
      return async () => {
        registered.delete(onNotify);
        if (registered.size === 0 && handlers.get(channel) === registered) {
          handlers.delete(channel);
          await run(`UNLISTEN "${channel}"`).catch(() => {});
        }
      };
    },
    dedicated: () => Promise.resolve(undefined),
    close: async () => {
      handlers.clear();
      await db.destroy();
      await unlock();
    },
  };
};

/**
 * Runs `migrations` (imported explicitly by the caller, never discovered on disk) with kysely's
 * Migrator. Each module keeps its own history table (`keel_migrations_<label>`) so modules migrate
 * independently. Logs and returns every migration's result; throws naming the one that failed.
 */
export const migrateToLatest = async (
  db: UntypedDatabase,
  migrations: Readonly<Record<string, Migration>>,
  label: string,
  log: (line: string) => void = () => {},
): Promise<readonly MigrationResult[]> => {
  if (!/^[a-z][a-z0-9_]*$/.test(label)) throw new Error(`Invalid migration label "${label}".`);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve({ ...migrations }) },
    migrationTableName: `keel_migrations_${label}`,
    migrationLockTableName: `keel_migrations_${label}_lock`,
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  for (const result of results) log(`migration ${label}/${result.migrationName}: ${result.status}`);
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? '(before any migration ran)';
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Migration ${label}/${failed} failed: ${reason}`, { cause: error });
  }
  return results;
};

const assertChannel = (channel: string): void => {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`Invalid LISTEN channel "${channel}".`);
};

/**
 * One dedicated connection for LISTEN (pooled connections cannot listen: they are shared and
 * recycled). Reconnects with backoff, re-issues every LISTEN, then calls each handler with
 * `undefined` so listeners re-check whatever they might have missed while disconnected.
 */
class PgListener {
  private readonly channels = new Map<string, Set<NotifyHandler>>();
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;

  constructor(private readonly url: string) {}

  async listen(channel: string, onNotify: NotifyHandler): Promise<() => Promise<void>> {
    assertChannel(channel);
    let set = this.channels.get(channel);
    const isNew = set === undefined;
    if (!set) {
      set = new Set();
      this.channels.set(channel, set);
    }
    set.add(onNotify);
    // A failed connect is not thrown: the reconnect loop keeps trying and the handler hears
    // `undefined` once it succeeds. Callers must poll anyway (notifications are best effort).
    await this.connect().catch(() => {});
    if (isNew) await this.client?.query(`LISTEN "${channel}"`).catch(() => {});
    const registered = set;
    return async () => {
      registered.delete(onNotify);
      if (registered.size > 0 || this.channels.get(channel) !== registered) return;
      this.channels.delete(channel);
      await this.client?.query(`UNLISTEN "${channel}"`).catch(() => {});
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.connecting?.catch(() => {});
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private connect(): Promise<void> {
    if (this.client || this.closed) return Promise.resolve();
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'keel-listen', connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    const lost = (): void => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => {});
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (msg) => {
      for (const handler of this.channels.get(msg.channel) ?? []) handler(msg.payload ?? '');
    });
    try {
      await client.connect();
      for (const channel of this.channels.keys()) await client.query(`LISTEN "${channel}"`);
    } catch (error) {
      client.removeAllListeners();
      client.on('error', () => {});
      await client.end().catch(() => {});
      this.scheduleReconnect();
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    const wasDown = this.failures > 0;
    this.failures = 0;
    if (wasDown) for (const set of this.channels.values()) for (const handler of set) handler(undefined);
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retry || this.channels.size === 0) return;
    this.failures += 1;
    const delay = Math.min(5_000, 100 * 2 ** Math.min(this.failures, 6));
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect().catch(() => {});
    }, delay);
    this.retry.unref();
  }
}
