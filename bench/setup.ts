/**
 * The benchmark's environment: a fresh database (PostgreSQL `keel_bench`, dropped and recreated
 * on the server named by KEEL_TEST_DATABASE_URL, or embedded PGlite in a temporary directory), the
 * event store on it, and a warmed connection pool. Workloads receive the store and nothing else.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { openEventStore } from '../src/eventstore/open.js';
import type { EventStore } from '../src/eventstore/port.js';
import { openDatabase } from '../src/platform/database.js';
import type { DatabaseHandle } from '../src/platform/database.js';

export const BENCH_DATABASE = 'keel_bench';
export const POOL_SIZE = 16;

export interface BenchEnvironment {
  readonly kind: 'postgres' | 'pglite';
  /** Where the data lives, password redacted. */
  readonly location: string;
  readonly serverVersion: string;
  readonly store: EventStore;
  readonly handle: DatabaseHandle;
  close(): Promise<void>;
}

export const redact = (url: string): string => {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
};

/** Drops and recreates `database` on the server of `adminUrl`; returns its URL. */
export const freshPostgresDatabase = async (adminUrl: string, database: string): Promise<string> => {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${database}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
};

const serverVersion = async (handle: DatabaseHandle): Promise<string> => {
  const { rows } = await sql<{ version: string }>`select version() as version`.execute(handle.db);
  return rows[0]?.version ?? 'unknown';
};

/** Opens `connections` pooled connections at once, so no workload pays for connecting. */
const warm = async (store: EventStore, connections: number): Promise<void> => {
  const probe = async (): Promise<void> => {
    for await (const _ of store.readStream('bench-warmup-nonexistent')) break;
  };
  await Promise.all(Array.from({ length: connections }, probe));
};

export const openBenchEnvironment = async (options: { readonly embedded: boolean; readonly database?: string }): Promise<BenchEnvironment> => {
  let databaseUrl: string | undefined;
  let dataDir: string;
  if (options.embedded) {
    dataDir = await mkdtemp(join(tmpdir(), 'keel-bench-'));
  } else {
    const adminUrl = process.env.KEEL_TEST_DATABASE_URL;
    if (!adminUrl) throw new Error('KEEL_TEST_DATABASE_URL is not set: run `npm run bench` (it finds or starts PostgreSQL), or pass --embedded.');
    databaseUrl = await freshPostgresDatabase(adminUrl, options.database ?? BENCH_DATABASE);
    dataDir = join(tmpdir(), 'keel-bench-unused');
  }
  const handle = await openDatabase({ databaseUrl, dataDir, poolSize: POOL_SIZE });
  const store = await openEventStore(handle);
  await warm(store, POOL_SIZE);
  return {
    kind: handle.kind,
    location: databaseUrl ? redact(databaseUrl) : dataDir,
    serverVersion: await serverVersion(handle),
    store,
    handle,
    close: async () => {
      await store.close();
      await handle.close();
      if (options.embedded) await rm(dataDir, { recursive: true, force: true });
    },
  };
};
