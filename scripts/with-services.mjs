#!/usr/bin/env node
// Makes sure the machine has what the tests need, that PostgreSQL and Redis are reachable, then
// runs the given command with KEEL_TEST_DATABASE_URL and KEEL_TEST_REDIS_URL set.
//   0. provision (scripts/provision.mjs): as root with apt-get, install the missing packages
//      (PostgreSQL, pg_basebackup, redis-server, curl, jq, chromium), saying which and why;
//      otherwise stop before any test with one message naming them and the install command;
// then, for each of PostgreSQL and Redis, in this order:
//   1. DATABASE_URL / REDIS_URL from the environment (no server is installed for them);
//   2. local servers on the default ports (postgres:postgres@127.0.0.1:5432, 127.0.0.1:6379);
//   3. start them: `docker compose up -d postgres redis --wait` where a Docker engine answers,
//      otherwise the local server binaries (pg_ctlcluster, redis-server);
//   4. otherwise stop with one message saying how to provide them.
// Quiet when everything is there and running.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import pg from 'pg';
import { provision } from './provision.mjs';

const DEFAULT_PG = 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS = 'redis://127.0.0.1:6379';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => process.stderr.write(`[keel services] ${m}\n`);

async function pgReachable(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function redisReachable(url) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || 6379) });
    const done = (ok) => { s.destroy(); resolve(ok); };
    s.setTimeout(2000, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH')));
  });
}

const has = (cmd, args = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const dockerEngine = () => has('docker', ['info']);

async function waitFor(check, what, seconds = 30) {
  for (let i = 0; i < seconds * 4; i++) {
    if (await check()) return true;
    await sleep(250);
  }
  log(`${what} did not become reachable within ${seconds}s`);
  return false;
}

/** `pg_ctlcluster <version> <name> <action>` for every local cluster pg_lsclusters lists (Debian). */
function controlLocalClusters(action) {
  for (const line of execFileSync('pg_lsclusters', ['-h']).toString().trim().split('\n').filter(Boolean)) {
    const [version, name] = line.split(/\s+/);
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, action], { stdio: 'inherit' });
  }
}

async function ensurePostgres() {
  if (process.env.DATABASE_URL) {
    if (await pgReachable(process.env.DATABASE_URL)) return process.env.DATABASE_URL;
    throw new Error(`DATABASE_URL is set but PostgreSQL does not answer there: ${redact(process.env.DATABASE_URL)}`);
  }
  if (await pgReachable(DEFAULT_PG)) return DEFAULT_PG;
  if (dockerEngine()) {
    log('starting postgres with docker compose');
    execFileSync('docker', ['compose', 'up', '-d', 'postgres', '--wait'], { stdio: 'inherit' });
    if (await waitFor(() => pgReachable(DEFAULT_PG), 'PostgreSQL')) return DEFAULT_PG;
  }
  if (has('pg_lsclusters', ['-h'])) {
    log('starting the local PostgreSQL cluster');
    controlLocalClusters('start');
    if (process.getuid?.() === 0) {
      spawnSync('su', ['postgres', '-c', `psql -q -c "ALTER ROLE postgres PASSWORD 'postgres'"`], { stdio: 'inherit' });
    }
    if (await waitFor(() => pgReachable(DEFAULT_PG), 'PostgreSQL')) return DEFAULT_PG;
  }
  return undefined;
}

async function ensureRedis() {
  if (process.env.REDIS_URL) {
    if (await redisReachable(process.env.REDIS_URL)) return process.env.REDIS_URL;
    throw new Error(`REDIS_URL is set but Redis does not answer there: ${redact(process.env.REDIS_URL)}`);
  }
  if (await redisReachable(DEFAULT_REDIS)) return DEFAULT_REDIS;
  if (dockerEngine()) {
    log('starting redis with docker compose');
    execFileSync('docker', ['compose', 'up', '-d', 'redis', '--wait'], { stdio: 'inherit' });
    if (await waitFor(() => redisReachable(DEFAULT_REDIS), 'Redis')) return DEFAULT_REDIS;
  }
  if (has('redis-server')) {
    log('starting a local redis-server');
    spawnSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no'], { stdio: 'inherit' });
    if (await waitFor(() => redisReachable(DEFAULT_REDIS), 'Redis')) return DEFAULT_REDIS;
  }
  return undefined;
}

/**
 * The horizon-stall test (test/integration/eventstore/horizon-stall.test.ts) prepares a transaction, which
 * PostgreSQL allows only with max_prepared_transactions > 0 (Debian's default is 0; the setting
 * needs a restart). On the local cluster this script manages, it sets 10 and restarts once;
 * elsewhere it says so and that test case skips.
 */
async function allowPreparedTransactions(url) {
  const current = async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      return Number((await client.query('show max_prepared_transactions')).rows[0].max_prepared_transactions);
    } catch {
      return undefined;
    } finally {
      await client.end().catch(() => {});
    }
  };
  if ((await current()) !== 0) return;
  const local = url === DEFAULT_PG && !process.env.DATABASE_URL && has('pg_lsclusters', ['-h']) && process.getuid?.() === 0;
  if (!local) {
    log('max_prepared_transactions is 0 on this PostgreSQL: the prepared-transaction case of the horizon-stall test will skip');
    return;
  }
  log('setting max_prepared_transactions = 10 on the local PostgreSQL cluster and restarting it (the horizon-stall test prepares a transaction)');
  spawnSync('su', ['postgres', '-c', `psql -q -c "ALTER SYSTEM SET max_prepared_transactions = 10"`], { stdio: 'inherit', cwd: '/' });
  controlLocalClusters('restart');
  await waitFor(() => pgReachable(url), 'PostgreSQL');
}

function redact(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** Finds or starts both servers; exits with one message when either cannot be had. */
async function ensureServices() {
  let databaseUrl, redisUrl;
  try {
    [databaseUrl, redisUrl] = await Promise.all([ensurePostgres(), ensureRedis()]);
  } catch (e) {
    log(e.message);
    process.exit(1);
  }
  const missing = [!databaseUrl && 'PostgreSQL', !redisUrl && 'Redis'].filter(Boolean);
  if (missing.length > 0) {
    log(
      `${missing.join(' and ')} not reachable. Provide them in one of these ways: set DATABASE_URL ` +
        `(postgres://user:password@host:5432/db) and REDIS_URL (redis://host:6379); or run ` +
        `'docker compose up -d postgres redis --wait'; or install and start local servers ` +
        `(PostgreSQL with role postgres/password postgres on 127.0.0.1:5432, redis-server on 127.0.0.1:6379).`,
    );
    process.exit(1);
  }
  return { databaseUrl, redisUrl };
}

/** Runs the command with the services' URLs and exits with its status. */
function runWithServices(cmd, args, { databaseUrl, redisUrl }) {
  const child = spawn(cmd, args, {
    stdio: 'inherit',
    shell: process.platform === 'win32',
    env: { ...process.env, KEEL_TEST_DATABASE_URL: databaseUrl, KEEL_TEST_REDIS_URL: redisUrl },
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

async function main() {
  const [cmd, ...args] = process.argv.slice(2);
  if (!cmd) {
    log('usage: node scripts/with-services.mjs <command> [args...]');
    process.exit(2);
  }
  try {
    provision();
  } catch (e) {
    log(e.message);
    process.exit(1);
  }
  const services = await ensureServices();
  await allowPreparedTransactions(services.databaseUrl);
  runWithServices(cmd, args, services);
}

await main();
