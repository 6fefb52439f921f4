// What `npm test` needs installed on the machine, and installing what is missing.
//
// scripts/with-services.mjs calls provision() before it finds or starts PostgreSQL and Redis. As
// root on Debian/Ubuntu (apt-get on the PATH) it installs the missing packages itself, saying on
// stderr which and why; otherwise it stops before any test with one message listing what is
// missing and the command that installs it. When everything is present it prints nothing.
//
// The decision (planProvision) is a pure function of the probed facts, tested by
// test/unit/provision.test.ts; probing and installing are the impure parts around it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const log = (m) => process.stderr.write(`[keel services] ${m}\n`);

/** The browser test drives exactly this binary (test/e2e/api/graphiql-browser.test.ts). */
export const CHROMIUM_PATH = '/usr/bin/chromium';
/** Debian's layout for the PostgreSQL server binaries: /usr/lib/postgresql/<major>/bin. */
const PG_LIB = '/usr/lib/postgresql';

/**
 * Each thing the tests need: `present` names its fact, `needed` says when the tests need it (a
 * server is not installed when its URL is given: the tests use that one), `why` is printed.
 * `package` is the Debian package; pg_basebackup's depends on the PostgreSQL major version.
 */
export const REQUIREMENTS = [
  {
    name: 'PostgreSQL server',
    present: 'postgres',
    package: () => 'postgresql',
    needed: (facts) => !facts.databaseUrlGiven,
    why: 'the tests\' database when DATABASE_URL is unset (started as a local cluster when no Docker engine answers), and the read-replica test (test/integration/api/read-replica.test.ts) runs a standby from its binaries',
  },
  {
    name: 'pg_basebackup',
    present: 'pgBasebackup',
    package: (facts) => (facts.pgMajor === undefined ? 'postgresql-client' : `postgresql-client-${facts.pgMajor}`),
    // The server package depends on its client package, which brings pg_basebackup.
    needed: (facts) => facts.present.postgres || facts.databaseUrlGiven,
    why: 'the read-replica test (test/integration/api/read-replica.test.ts) copies the server with it to build a hot standby',
  },
  {
    name: 'redis-server',
    present: 'redisServer',
    package: () => 'redis-server',
    needed: (facts) => !facts.redisUrlGiven,
    why: 'Redis for the caches and rate limits under test when REDIS_URL is unset (started locally when no Docker engine answers); test/integration/projections/read-cache-redis-down.test.ts also starts and kills its own',
  },
  {
    name: 'curl',
    present: 'curl',
    package: () => 'curl',
    needed: () => true,
    why: 'the README\'s API examples, run as written by test/e2e/api/write-path.test.ts',
  },
  {
    name: 'jq',
    present: 'jq',
    package: () => 'jq',
    needed: () => true,
    why: 'the README\'s API examples, run as written by test/e2e/api/write-path.test.ts',
  },
  {
    name: 'Chromium',
    present: 'chromium',
    package: () => 'chromium',
    needed: () => true,
    why: `test/e2e/api/graphiql-browser.test.ts drives ${CHROMIUM_PATH} through playwright-core (no browser is downloaded)`,
  },
  {
    // Debian's package brings both binaries (and the classic web UI the screenshot script opens).
    name: 'Prometheus and promtool',
    present: 'prometheus',
    package: () => 'prometheus',
    needed: () => true,
    why: 'promtool checks and unit-tests the alert rules (test/integration/ops/alert-rules.test.ts), and test/e2e/ops/prometheus.test.ts runs a real Prometheus that scrapes a running Keel',
  },
];

/**
 * Which requirements are missing: needed and not present. Pure.
 * @param {Facts} facts
 * @returns {{ name: string, package: string, why: string }[]}
 */
export function missingRequirements(facts) {
  return REQUIREMENTS.filter((r) => r.needed(facts) && !facts.present[r.present]).map((r) => ({
    name: r.name,
    package: r.package(facts),
    why: r.why,
  }));
}

/**
 * What to do about the machine. Pure: `none` when nothing is missing; `install` (with the
 * packages, once each, and one line per package saying why) as root with apt-get; otherwise
 * `stop`, with the one message to print.
 * @param {Facts} facts
 */
export function planProvision(facts) {
  const missing = missingRequirements(facts);
  if (missing.length === 0) return { action: 'none' };
  const packages = [...new Set(missing.map((m) => m.package))];
  const reasons = missing.map((m) => `${m.package}${m.package === m.name ? '' : ` (${m.name})`}: ${m.why}`);
  if (facts.root && facts.aptGet) return { action: 'install', packages, reasons };
  return { action: 'stop', message: stopMessage(missing, packages, facts) };
}

/** The one message printed when the tests cannot run and this script may not install. Pure. */
function stopMessage(missing, packages, facts) {
  const apt = `apt-get install -y ${packages.join(' ')}`;
  const install = !facts.aptGet
    ? `Install them with your system's package manager (on Debian/Ubuntu: sudo ${apt}).`
    : `Install them with: sudo ${apt}`;
  return [
    `The tests need what this machine lacks (running as root with apt-get, npm test would install it itself):`,
    ...missing.map((m) => `  - ${m.name}: ${m.why}`),
    install,
  ].join('\n');
}

/** Whether a command is on the PATH (POSIX `command -v`). */
const onPath = (command) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;

/** The PostgreSQL major versions under /usr/lib/postgresql, highest first, with or without a server. */
function pgMajors() {
  if (!existsSync(PG_LIB)) return [];
  const majors = readdirSync(PG_LIB).filter((d) => /^\d+$/.test(d)).map(Number);
  return majors.sort((a, b) => b - a).map((major) => ({ major, server: existsSync(join(PG_LIB, String(major), 'bin', 'postgres')) }));
}

/**
 * Probes the machine (the impure half of the decision). The PostgreSQL major is that of the
 * installed server, else of an installed client; pg_basebackup is looked for where
 * test/support/pg-standby.ts looks (KEEL_TEST_PG_BINDIR, else /usr/lib/postgresql/<major>/bin).
 * @returns {Facts}
 */
export function probeMachine(env = process.env) {
  const majors = pgMajors();
  const pgMajor = (majors.find((m) => m.server) ?? majors[0])?.major;
  const bindir = env.KEEL_TEST_PG_BINDIR ?? (pgMajor === undefined ? undefined : join(PG_LIB, String(pgMajor), 'bin'));
  return {
    present: {
      postgres: majors.some((m) => m.server) || onPath('postgres'),
      pgBasebackup: bindir === undefined ? onPath('pg_basebackup') : existsSync(join(bindir, 'pg_basebackup')),
      redisServer: onPath('redis-server'),
      curl: onPath('curl'),
      jq: onPath('jq'),
      chromium: existsSync(CHROMIUM_PATH),
      prometheus: onPath('prometheus') && onPath('promtool'),
    },
    pgMajor,
    databaseUrlGiven: Boolean(env.DATABASE_URL),
    redisUrlGiven: Boolean(env.REDIS_URL),
    root: process.getuid?.() === 0,
    aptGet: onPath('apt-get'),
  };
}

/** Runs apt-get quietly, non-interactively; its output is shown only when it fails. */
function aptGet(args) {
  const result = spawnSync('apt-get', args, {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
    throw new Error(`apt-get ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
  }
}

/**
 * Installs the plan's packages: one `apt-get update`, then one `apt-get install`. --no-upgrade:
 * a named package that is already installed stays at its version (upgrading postgresql-client-15
 * would upgrade the running server's package under it, and its next library load fails).
 */
function installPackages(plan) {
  for (const reason of plan.reasons) log(`installing ${reason}`);
  log('apt-get update');
  aptGet(['update', '-q']);
  log(`apt-get install -y --no-upgrade ${plan.packages.join(' ')}`);
  aptGet(['install', '-y', '-q', '--no-upgrade', ...plan.packages]);
}

/**
 * Makes sure the machine has what the tests need, installing it as root with apt-get. Returns
 * nothing when ready; otherwise throws an Error whose message is the one to print.
 */
export function provision(env = process.env) {
  const plan = planProvision(probeMachine(env));
  if (plan.action === 'none') return;
  if (plan.action === 'stop') throw new Error(plan.message);
  installPackages(plan);
  // Confirm: a package that installed without providing what was missing is a stop too.
  const still = missingRequirements(probeMachine(env));
  if (still.length > 0) throw new Error(`still missing after apt-get install: ${still.map((m) => m.name).join(', ')}`);
}

/**
 * @typedef {object} Facts
 * @property {{ postgres: boolean, pgBasebackup: boolean, redisServer: boolean, curl: boolean, jq: boolean, chromium: boolean, prometheus: boolean }} present
 * @property {number | undefined} pgMajor
 * @property {boolean} databaseUrlGiven
 * @property {boolean} redisUrlGiven
 * @property {boolean} root
 * @property {boolean} aptGet
 */
