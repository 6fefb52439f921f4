/**
 * `keel projections …` as a real process (the test entry registers the test projection), against a
 * database where a projector runs in this test process: output, exit codes (0 ok, 1 failure,
 * 2 usage), plain progress lines when not on a terminal, --json, and the embedded-database lock.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEventStore } from '../../../src/eventstore/open.js';
import type { EventStore } from '../../../src/eventstore/port.js';
import { openDatabase, type DatabaseHandle } from '../../../src/platform/database.js';
import { startProjections, type Projections } from '../../../src/projections/engine/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { appendCounted, counted, poisoned, testProjection } from '../../support/projection-test-model.js';
import { runCli } from '../../support/projector-spawn.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

// Each command is a fresh Node process (a few seconds each on a loaded machine): generous timeouts.
describe('keel projections (CLI)', { timeout: 180_000 }, () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  let store: EventStore;
  let engine: Projections;
  let env: Record<string, string>;
  const keel = (...args: string[]) => runCli(args, env);

  beforeAll(async () => {
    database = await createTestDatabase('projections_cli');
    env = { DATABASE_URL: database.url };
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    store = await openEventStore(handle);
    await appendCounted(store, 'cli', 3_000, 10, 100);
    await store.append('cli-poison', [counted(1)]);
    await store.append('cli-poison', [poisoned()]);
    const last = (await store.append('cli-poison', [counted(2)])).position;
    engine = await startProjections({ handle, store, projections: [testProjection()], logger: quiet, tuning: { retryBaseMs: 5, idlePollMs: 100 } });
    await engine.waitFor('test_counts', last, { timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await engine.stop();
    await store.close();
    await handle.close();
    await database.drop();
  });

  it('list, status (table and --json), and a usage error for an unknown name', async () => {
    const list = await keel('projections', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^PROJECTION\s+VERSION\s+EVENT TYPES\s+DESCRIPTION\ntest_counts\s+1\s+2\s+Test model/);
    const listed = JSON.parse((await keel('projections', 'list', '--json')).stdout) as unknown;
    expect(listed).toEqual([{ name: 'test_counts', version: 1, description: expect.any(String), eventTypes: ['Counted', 'Poisoned'], tables: ['stream_counts', 'totals'] }]);

    const status = await keel('projections', 'status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/PROJECTION\s+STATE\s+GEN\s+POSITION\s+LAG EVENTS\s+LAG\s+PARKED\s+RUNNER\ntest_counts\s+running\s+1\s+\d+\s+0\s+0s\s+2\s+active/);
    expect(status.stdout).toContain('! test_counts: 2 parked event(s); see: keel projections parked test_counts');

    const json = await keel('projections', 'status', '--json');
    expect(json.code).toBe(0);
    const [entry] = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(entry).toMatchObject({ name: 'test_counts', state: 'running', parked: 2, lagEvents: 0, active: true, generation: 1 });
    expect(typeof entry?.position).toBe('string');

    const unknown = await keel('projections', 'status', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown projection "nope" (known: test_counts)');
    const badOption = await keel('projections', 'status', '--bogus');
    expect(badOption.code).toBe(2);
  });

  it('parked, retry (failing, then cured) and the usage errors of retry', async () => {
    const parked = await keel('projections', 'parked', 'test_counts');
    expect(parked.code).toBe(0);
    expect(parked.stdout).toMatch(/ID\s+STATUS\s+POSITION\s+KEY\s+TYPE\s+ATTEMPTS\s+ERROR/);
    expect(parked.stdout).toMatch(/\d+\s+parked\s+\d+\s+cli-poison\s+Poisoned\s+4\s+poisoned event/);
    expect(parked.stdout).toMatch(/\d+\s+blocked\s+\d+\s+cli-poison\s+Counted\s+0\s+waiting behind \d+/);
    const rows = JSON.parse((await keel('projections', 'parked', 'test_counts', '--json')).stdout) as { id: string; status: string }[];
    expect(rows.map((r) => r.status)).toEqual(['parked', 'blocked']);
    const id = rows[0]?.id ?? '';

    const neither = await keel('projections', 'retry', 'test_counts');
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('--id <id> or --all');

    const failing = await keel('projections', 'retry', 'test_counts', '--id', id);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain(`Parked event ${id} (key cli-poison) failed again: poisoned event`);

    const cured = await runCli(['projections', 'retry', 'test_counts', '--all'], { ...env, KEEL_TEST_CURE_POISON: '1' });
    expect(cured.code).toBe(0);
    expect(cured.stdout).toContain(`Applied parked event ${id} (key cli-poison); 1 waiting event(s) of cli-poison applied.`);
    expect((await keel('projections', 'parked', 'test_counts')).stdout).toContain('No parked events in test_counts.');
  });

  it('pause and resume', async () => {
    const paused = await keel('projections', 'pause', 'test_counts');
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(/^Paused test_counts at position \d+\./);
    const last = (await store.append('cli-paused', [counted(1)])).position;
    const status = await keel('projections', 'status');
    expect(status.stdout).toMatch(/test_counts\s+paused\s+1\s+\d+\s+1\s+/);
    expect(status.stdout).toContain('! test_counts is paused');
    const resumed = await keel('projections', 'resume', 'test_counts');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('Resumed test_counts');
    await engine.waitFor('test_counts', last, { timeoutMs: 15_000 });
  });

  it('rebuild prints plain progress lines when not on a terminal, JSON lines with --json; drop-old', async () => {
    // This process's code cannot apply the event the live model applied after its retry (the cure
    // is switched off): the build parks it, verification notices, nothing is swapped.
    const refused = await keel('projections', 'rebuild', 'test_counts');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Rebuild of test_counts failed verification, so the live tables were NOT replaced');
    expect(refused.stderr).toContain('the build parked 2 failing event(s), the live generation 0');
    expect(refused.stderr).toContain('[KEEL_ERR_PROJECTION_VERIFY_FAILED]');
    const refusedJson = await keel('projections', 'rebuild', 'test_counts', '--json');
    expect(refusedJson.code).toBe(1);
    const lastLine = JSON.parse(refusedJson.stdout.trim().split('\n').at(-1) ?? '{}') as unknown;
    expect(lastLine).toMatchObject({ kind: 'error', code: 'KEEL_ERR_PROJECTION_VERIFY_FAILED' });

    env = { ...env, KEEL_TEST_CURE_POISON: '1' };
    const plain = await keel('projections', 'rebuild', 'test_counts');
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    const lines = plain.stdout.trim().split('\n');
    expect(lines[0]).toBe('rebuild test_counts: building generation 2 into schema rm_test_counts__g2; generation 1 keeps serving reads until the swap');
    expect(plain.stdout).toMatch(/rebuild test_counts: \d+ events, 100%, \d+ events\/s, ETA 0s/);
    expect(plain.stdout).toMatch(/rebuild test_counts: verified stream_counts \d+ rows \(live had \d+\), totals 1 rows \(live had 1\)/);
    expect(lines.at(-1)).toMatch(/^rebuild test_counts: done\. Generation 2 \(version 1\) is live: \d+ events in .*kept in schema rm_test_counts__old_g1/);
    expect(plain.stdout).not.toContain('\u001b['); // no terminal control codes in a pipe

    const json = await keel('projections', 'rebuild', 'test_counts', '--json');
    expect(json.code).toBe(0);
    const steps = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(steps[0]).toMatchObject({ kind: 'started', fromGeneration: 2, toGeneration: 3 });
    expect(steps.map((s) => s.kind)).toEqual(expect.arrayContaining(['progress', 'swapping', 'swapped']));
    expect(steps.at(-1)).toMatchObject({ kind: 'result', name: 'test_counts', generation: 3, version: 1, oldSchema: 'rm_test_counts__old_g2' });

    const dropped = await keel('projections', 'drop-old', 'test_counts');
    expect(dropped.code).toBe(0);
    expect(dropped.stdout).toBe('Dropped rm_test_counts__old_g1, rm_test_counts__old_g2.\n');
    expect((await keel('projections', 'rebuild', 'nope')).code).toBe(2);
  });

  it('refuses the embedded database while another process holds it, with what to do', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keel-cli-pglite-'));
    try {
      const holder = await openDatabase({ dataDir: dir });
      const locked = await runCli(['projections', 'status'], { KEEL_DATA_DIR: dir });
      await holder.close();
      expect(locked.code).toBe(1);
      expect(locked.stderr).toContain(`The embedded database in ${dir} is in use by another Keel process (pid ${process.pid})`);
      expect(locked.stderr).toContain('DATABASE_URL');
      const free = await runCli(['projections', 'status'], { KEEL_DATA_DIR: dir });
      expect(free.code).toBe(0);
      expect(free.stdout).toMatch(/test_counts\s+not-started/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
