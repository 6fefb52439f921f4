/**
 * A real PostgreSQL hot standby of the test server, for read-replica tests: a physical streaming
 * replica (`pg_basebackup -R -X stream`) started on a free port from the server's own binaries.
 * Physical, not logical: Keel's read models are created by DDL at runtime (a schema per
 * generation), which logical replication does not carry. It copies the whole cluster (a few
 * seconds), so keep one per test file. Needs the PostgreSQL server binaries of the test server's
 * major version on this machine (Debian: /usr/lib/postgresql/<major>/bin, or KEEL_TEST_PG_BINDIR)
 * and a pg_hba.conf that lets the test user replicate from 127.0.0.1 (Debian's default does).
 * As root it runs everything as the `postgres` OS user (runuser), since postgres refuses root.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { adminDatabaseUrl } from './database.js';

const run = promisify(execFile);

export interface PgStandby {
  /** `database` on the standby, with the test server's credentials (the roles are replicated). */
  urlOf(database: string): string;
  /** Waits until the standby has replayed all WAL the primary had written when this was called. */
  catchUp(timeoutMs?: number): Promise<void>;
  /** Waits until the standby has received (not necessarily replayed) that much WAL. */
  received(timeoutMs?: number): Promise<void>;
  /** `pg_wal_replay_pause()`: nothing the primary writes from now on is replayed until resumed. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** The standby's server log so far (stderr: one line per message, prefixed with the application name). */
  log(): Promise<string>;
  /** Fast shutdown, then the data directory is removed. Idempotent. */
  stop(): Promise<void>;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const asRoot = process.getuid?.() === 0;
/** The command line that runs `command` as the postgres OS user when we are root. */
const asPostgres = (command: string, args: readonly string[]): [string, string[]] =>
  asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, [...args]];

const query = async <R extends Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<R[]> => {
  const client = new pg.Client({ connectionString: url, application_name: 'keel-test-standby' });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
};

const until = async (what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`standby: ${what} within ${timeoutMs} ms`);
    await sleep(25);
  }
};

export const startPgStandby = async (): Promise<PgStandby> => {
  const primary = new URL(adminDatabaseUrl());
  const primaryUrl = primary.toString();
  const settings = Object.fromEntries(
    (
      await query<{ name: string; setting: string }>(
        primaryUrl,
        `select name, setting from pg_settings where name = any($1)`,
        [['server_version_num', 'wal_level', 'max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction']],
      )
    ).map((row) => [row.name, row.setting]),
  );
  const major = Math.floor(Number(settings.server_version_num) / 10_000);
  const bindir = process.env.KEEL_TEST_PG_BINDIR ?? `/usr/lib/postgresql/${major}/bin`;
  for (const tool of ['postgres', 'pg_basebackup', 'pg_ctl']) {
    if (!existsSync(join(bindir, tool))) {
      throw new Error(`standby: ${join(bindir, tool)} not found: the PostgreSQL ${major} server binaries must be installed here (or set KEEL_TEST_PG_BINDIR)`);
    }
  }
  if (settings.wal_level === 'minimal') throw new Error('standby: the test server has wal_level=minimal; a standby needs replica');

  const dir = await mkdtemp(join(tmpdir(), 'keel-standby-'));
  const data = join(dir, 'data');
  const socketDir = join(dir, 'sock');
  await mkdir(socketDir);
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    await chown(dir, uid, gid);
    await chown(socketDir, uid, gid);
  }
  const port = await freePort();
  const pgCtl = join(bindir, 'pg_ctl');
  let started = false;
  let stopped: Promise<void> | undefined;
  const stopSync = (): void => {
    spawnSync(...asPostgres(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']), { stdio: 'ignore' });
  };
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      process.off('exit', stopSync);
      if (started) await run(...asPostgres(pgCtl, ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop'])).catch(() => stopSync());
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    const env = { ...process.env, PGPASSWORD: decodeURIComponent(primary.password) };
    await run(
      ...asPostgres(join(bindir, 'pg_basebackup'), [
        '-h', primary.hostname, '-p', primary.port || '5432', '-U', decodeURIComponent(primary.username),
        '-D', data, '-R', '-X', 'stream', '-c', 'fast', '--no-sync',
      ]),
      { env, cwd: dir },
    );
    // Debian keeps the server's configuration outside its data directory: give the copy its own.
    // md5 also accepts SCRAM-hashed passwords; only 127.0.0.1 is listened on.
    await writeFile(join(data, 'pg_hba.conf'), 'host all all 127.0.0.1/32 md5\nlocal all all peer\n');
    await writeFile(
      join(data, 'postgresql.conf'),
      [
        `port = ${port}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${socketDir}'`,
        'hot_standby = on',
        // Queries on the standby hold back cleanup on the primary instead of being cancelled.
        'hot_standby_feedback = on',
        'shared_buffers = 32MB',
        'fsync = off',
        // A hot standby needs at least the primary's values of these.
        ...['max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction'].map(
          (name) => `${name} = ${settings[name] ?? ''}`,
        ),
        'logging_collector = off',
        `log_line_prefix = '%m [%p] app=%a '`,
        'log_min_error_statement = error',
        '',
      ].join('\n'),
    );
    if (asRoot) await run('chown', ['-R', 'postgres:postgres', data]);
    process.on('exit', stopSync);
    started = true;
    await run(...asPostgres(pgCtl, ['-D', data, '-l', join(dir, 'standby.log'), '-w', '-t', '60', 'start']), { cwd: dir });
  } catch (error) {
    const log = await readFile(join(dir, 'standby.log'), 'utf8').catch(() => '');
    await stop();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`standby: could not start a hot standby of ${primary.hostname}:${primary.port}: ${reason}${log === '' ? '' : `\n${log}`}`, { cause: error });
  }

  const urlOf = (database: string): string => {
    const url = new URL(primaryUrl);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    url.pathname = `/${database}`;
    return url.toString();
  };
  const standbyUrl = urlOf('postgres');
  await until('accepts connections', () => query(standbyUrl, 'select 1').then(() => true, () => false), 30_000);

  const primaryLsn = async (): Promise<string> => {
    const [row] = await query<{ lsn: string }>(primaryUrl, 'select pg_current_wal_lsn()::text as lsn');
    if (row === undefined) throw new Error('standby: no WAL position on the primary');
    return row.lsn;
  };
  const reached = (fn: 'pg_last_wal_replay_lsn' | 'pg_last_wal_receive_lsn', lsn: string) => async (): Promise<boolean> => {
    const [row] = await query<{ ok: boolean | null }>(standbyUrl, `select ${fn}() >= $1::pg_lsn as ok`, [lsn]);
    return row?.ok === true;
  };

  return {
    urlOf,
    catchUp: async (timeoutMs = 30_000) => until('did not replay the primary\'s WAL', reached('pg_last_wal_replay_lsn', await primaryLsn()), timeoutMs),
    received: async (timeoutMs = 30_000) => until('did not receive the primary\'s WAL', reached('pg_last_wal_receive_lsn', await primaryLsn()), timeoutMs),
    pauseReplay: async () => {
      // Replay checks the request before each record: once it is 'pause requested', nothing
      // written later is replayed (it turns 'paused' at the next record).
      await query(standbyUrl, 'select pg_wal_replay_pause()');
      const [row] = await query<{ state: string }>(standbyUrl, 'select pg_get_wal_replay_pause_state() as state');
      if (row?.state !== 'paused' && row?.state !== 'pause requested') throw new Error(`standby: replay not paused (${row?.state ?? 'no state'})`);
    },
    resumeReplay: async () => {
      await query(standbyUrl, 'select pg_wal_replay_resume()');
    },
    log: () => readFile(join(dir, 'standby.log'), 'utf8'),
    stop,
  };
};
