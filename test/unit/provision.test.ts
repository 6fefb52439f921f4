/**
 * What `npm test` does about a machine that lacks something (scripts/provision.mjs, called by
 * scripts/with-services.mjs): the pure decision from the probed facts. Nothing is installed or
 * removed here; the script's install path is checked by hand (see the report of issue #11).
 */
import { describe, expect, it } from 'vitest';
import { missingRequirements, planProvision } from '../../scripts/provision.mjs';
import type { Facts } from '../../scripts/provision.mjs';

const allPresent: Facts['present'] = { postgres: true, pgBasebackup: true, redisServer: true, curl: true, jq: true, chromium: true, prometheus: true };

/** A Debian 12 machine as root with apt-get and everything installed, changed by `overrides`. */
const machine = (overrides: Partial<Omit<Facts, 'present'>> = {}, present: Partial<Facts['present']> = {}): Facts => ({
  present: { ...allPresent, ...present },
  pgMajor: 15,
  databaseUrlGiven: false,
  redisUrlGiven: false,
  root: true,
  aptGet: true,
  ...overrides,
});

/** A fresh machine of the CI kind: PostgreSQL 15 installed, nothing else. */
const fresh = (overrides: Partial<Omit<Facts, 'present'>> = {}): Facts =>
  machine(overrides, { redisServer: false, curl: false, jq: false, chromium: false, prometheus: false });

describe('planProvision: what npm test does about the machine', () => {
  it('does nothing when everything is present', () => {
    expect(planProvision(machine())).toEqual({ action: 'none' });
    expect(planProvision(machine({ root: false, aptGet: false }))).toEqual({ action: 'none' });
  });

  it('as root with apt-get, installs exactly what is missing, each with why', () => {
    const plan = planProvision(fresh());
    expect(plan).toMatchObject({ action: 'install', packages: ['redis-server', 'curl', 'jq', 'chromium', 'prometheus'] });
    if (plan.action !== 'install') throw new Error('not an install');
    expect(plan.reasons).toHaveLength(5);
    expect(plan.reasons.find((r) => r.startsWith('chromium'))).toContain('test/e2e/api/graphiql-browser.test.ts');
    expect(plan.reasons.find((r) => r.startsWith('jq'))).toContain('test/e2e/api/write-path.test.ts');
    expect(plan.reasons.find((r) => r.startsWith('curl'))).toContain('test/e2e/api/write-path.test.ts');
    expect(plan.reasons.find((r) => r.startsWith('redis-server'))).toContain('rate limits');
    const prometheus = plan.reasons.find((r) => r.startsWith('prometheus'));
    expect(prometheus).toContain('test/integration/ops/alert-rules.test.ts');
    expect(prometheus).toContain('test/e2e/ops/prometheus.test.ts');

    expect(planProvision(machine({}, { jq: false }))).toEqual({ action: 'install', packages: ['jq'], reasons: [expect.stringContaining('README')] });
  });

  it('installs the PostgreSQL server where none is, and then not pg_basebackup separately (the server brings it)', () => {
    const plan = planProvision(machine({ pgMajor: undefined }, { postgres: false, pgBasebackup: false }));
    expect(plan).toMatchObject({ action: 'install', packages: ['postgresql'] });
  });

  it('installs pg_basebackup of the installed major version when only it is missing (the read-replica test)', () => {
    const plan = planProvision(machine({}, { pgBasebackup: false }));
    expect(plan).toMatchObject({ action: 'install', packages: ['postgresql-client-15'], reasons: [expect.stringContaining('test/integration/api/read-replica.test.ts')] });
    expect(planProvision(machine({ pgMajor: 16 }, { pgBasebackup: false }))).toMatchObject({ packages: ['postgresql-client-16'] });
  });

  it('installs no server whose URL is given (the tests use that one), but still the tools', () => {
    const given = { databaseUrlGiven: true, redisUrlGiven: true, pgMajor: undefined };
    expect(planProvision(machine(given, { postgres: false, redisServer: false }))).toEqual({ action: 'none' });
    expect(planProvision(machine(given, { postgres: false, redisServer: false, pgBasebackup: false, jq: false }))).toMatchObject({
      action: 'install',
      packages: ['postgresql-client', 'jq'],
    });
  });

  it('not as root: stops with one message naming each missing thing, why, and the sudo command', () => {
    const plan = planProvision(fresh({ root: false }));
    if (plan.action !== 'stop') throw new Error(`expected a stop, got ${plan.action}`);
    const lines = plan.message.split('\n');
    expect(lines.at(-1)).toBe('Install them with: sudo apt-get install -y redis-server curl jq chromium prometheus');
    expect(lines.filter((l) => l.startsWith('  - ')).map((l) => l.slice(4, l.indexOf(':')))).toEqual(['redis-server', 'curl', 'jq', 'Chromium', 'Prometheus and promtool']);
    expect(plan.message).toContain('/usr/bin/chromium');
  });

  it('without apt-get: stops, naming the Debian command as the example', () => {
    for (const root of [true, false]) {
      const plan = planProvision(machine({ root, aptGet: false }, { redisServer: false }));
      expect(plan).toEqual({ action: 'stop', message: expect.stringContaining("with your system's package manager (on Debian/Ubuntu: sudo apt-get install -y redis-server)") });
    }
  });

  it('installs Debian\'s prometheus package when prometheus or promtool is missing (the alert-rule and scrape tests)', () => {
    expect(planProvision(machine({}, { prometheus: false }))).toEqual({
      action: 'install',
      packages: ['prometheus'],
      reasons: [expect.stringContaining('promtool')],
    });
    // Needed whatever URLs are given: no server URL stands in for it.
    expect(planProvision(machine({ databaseUrlGiven: true, redisUrlGiven: true }, { prometheus: false }))).toMatchObject({ packages: ['prometheus'] });
  });

  it('lists a package once even when it provides two missing things', () => {
    expect(missingRequirements(machine({}, { curl: false, jq: false })).map((m) => m.package)).toEqual(['curl', 'jq']);
    expect(planProvision(machine({ root: false }, { postgres: false, pgBasebackup: false }))).toMatchObject({
      message: expect.stringMatching(/sudo apt-get install -y postgresql$/),
    });
  });
});
