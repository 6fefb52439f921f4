/**
 * `keel events`, `keel replay` and `keel explain` as real processes against real histories
 * (test/support/replay-histories.ts, written through the command handlers and the fulfilment
 * process manager), with the event index projected to the head: on PostgreSQL, on the EventStoreDB
 * adapter (EsdbProtocolDouble, kept running by this process) and, the embedded case, on PGlite.
 * Exit codes: 0 answered, 1 the stream/order does not exist (or a --until / --redecide check
 * failed), 2 usage: a bad flag value, including a stream id of no known aggregate (`foo-1`:
 * KEEL_ERR_REPLAY_UNKNOWN_STREAM_KIND is about the argument, which can never be right).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEventStore } from '../../../src/eventstore/open.js';
import type { RecordedEvent } from '../../../src/eventstore/port.js';
import { openDatabase } from '../../../src/platform/database.js';
import { startProjections } from '../../../src/projections/engine/index.js';
import { eventIndexProjection } from '../../../src/projections/read-models/index.js';
import { runCli, type CliResult } from '../../support/projector-spawn.js';
import { writeReplayHistories, type ReplayHistories } from '../../support/replay-histories.js';
import { at, commandsOn, openWriteSide, type WriteSide } from '../../support/write-side.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const root = fileURLToPath(new URL('../../..', import.meta.url));

type EventJson = { id: string; position: string; streamId: string; revision: string; type: string; actor: string | null; commandType: string | null; correlationId: string | null; data: Record<string, unknown> };

/** Projects the event index up to the head, so explain and --correlation read it. */
const indexToHead = async (side: Pick<WriteSide, 'handle' | 'store'>): Promise<void> => {
  const engine = await startProjections({ handle: side.handle, store: side.store, projections: [eventIndexProjection], logger: quiet, tuning: { idlePollMs: 100 } });
  try {
    await engine.waitFor('event_index', await side.store.headPosition(), { timeoutMs: 60_000 });
  } finally {
    await engine.stop();
  }
};

const readStream = async (side: Pick<WriteSide, 'store'>, streamId: string): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const event of side.store.readStream(streamId)) events.push(event);
  return events;
};

const ok = (result: CliResult): CliResult => {
  if (result.code !== 0) throw new Error(`exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  return result;
};

const parsed = <T>(result: CliResult): T => JSON.parse(ok(result).stdout) as T;

const DIFF_DECLINED = [
  '#1 OrderCancelled',
  '~ status: "pending" → "cancelled"',
  '+ reason: "payment failed: card_declined"',
];

// Usage errors are found before anything is opened: no database, the same on every target.
describe('keel replay / explain / events: usage errors (exit 2)', { timeout: 120_000 }, () => {
  it('a malformed condition, bad command JSON, a stream of no aggregate, clashing flags', async () => {
    const [condition, json, kind, explainKind, clash, bounds] = await Promise.all([
      runCli(['replay', 'inventory-HOT', '--until', 'reserved >='], {}),
      runCli(['replay', 'order-r-confirmed', '--decide', '{"type": "CancelOrder",'], {}),
      runCli(['replay', 'foo-1'], {}),
      runCli(['explain', 'foo-1'], {}),
      runCli(['replay', 'order-r-confirmed', '--redecide', '--to-revision', '1'], {}),
      runCli(['replay', 'order-r-confirmed', '--to-revision', '1', '--at-position', '5'], {}),
    ]);
    expect(condition.code).toBe(2);
    expect(condition.stderr).toContain('Cannot read the condition "reserved >="');
    expect(condition.stderr).toContain('[KEEL_ERR_REPLAY_BAD_CONDITION]');
    expect(json.code).toBe(2);
    expect(json.stderr).toMatch(/it is not JSON .*\[KEEL_ERR_REPLAY_BAD_COMMAND\]/);
    // Documented choice: a stream id no aggregate owns is a usage error (2), not a missing stream (1).
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain('"foo-1" is not a stream of a Keel aggregate');
    expect(kind.stderr).toContain('[KEEL_ERR_REPLAY_UNKNOWN_STREAM_KIND]');
    expect(explainKind.code).toBe(2);
    expect(explainKind.stderr).toContain('[KEEL_ERR_REPLAY_UNKNOWN_STREAM_KIND]');
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain('--redecide takes no --to-revision');
    expect(bounds.code).toBe(2);
    expect(bounds.stderr).toContain('Give at most one of --to-revision, --at and --at-position');
  });
});

// Each command is a fresh Node process (a few seconds each on a loaded machine): generous timeouts.
describe.each(['postgres', 'esdb'] as const)('keel events / replay / explain on %s (CLI)', { timeout: 240_000 }, (target) => {
  let side: WriteSide;
  let histories: ReplayHistories;
  let env: Record<string, string>;
  const keel = (...args: string[]) => runCli(args, env, 90_000);

  beforeAll(async () => {
    side = await openWriteSide(`replay_cli_${target}`, target);
    histories = await writeReplayHistories(side);
    await indexToHead(side);
    env = { DATABASE_URL: side.url ?? '', ...(side.double === undefined ? {} : { EVENTSTORE_URL: side.double.url }) };
  }, 180_000);
  afterAll(async () => {
    await side?.close();
  });

  it('events of a stream: a table, and --json', async () => {
    const stream = `order-${histories.declined}`;
    const [table, json] = await Promise.all([keel('events', stream), keel('events', stream, '--json')]);
    ok(table);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^POSITION\s+STREAM\s+REV\s+TIME\s+TYPE\s+ACTOR\s+COMMAND\s+CORRELATION\s+CAUSATION\s+DATA$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^\d+\s+order-r-declined\s+0\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+OrderPlaced\s+test\s+\S+\s+\S+\s+\S+\s+\{.*"lines":\[\{"sku":"C","quantity":4/);
    expect(lines[2]).toMatch(/^\d+\s+order-r-declined\s+1\s+\S+\s+OrderCancelled\s+process:order-fulfilment\s+\S+:cancel\s+/);
    expect(lines[2]).toContain('"reason":"payment failed: card_declined"');

    const events = parsed<EventJson[]>(json);
    expect(events.map((e) => [e.revision, e.type, e.commandType])).toEqual([
      ['0', 'OrderPlaced', 'PlaceOrder'],
      ['1', 'OrderCancelled', 'CancelOrder'],
    ]);
    expect(events[1]?.data).toMatchObject({ orderId: 'r-declined', reason: 'payment failed: card_declined' });
    const stored = await readStream(side, stream);
    expect(events.map((e) => e.position)).toEqual(stored.map((e) => e.position.toString()));
  });

  it('events --all --correlation: the whole chain of one order, across streams', async () => {
    const [placed] = await readStream(side, `order-${histories.declined}`);
    const correlation = String(placed?.metadata.correlationId);
    const events = parsed<EventJson[]>(await keel('events', '--all', '--correlation', correlation, '--json'));
    expect(events.map((e) => `${e.streamId} ${e.type}`)).toEqual([
      'order-r-declined OrderPlaced',
      'inventory-C StockReserved',
      'payment-r-declined PaymentRequested',
      'payment-r-declined PaymentFailed',
      'order-r-declined OrderCancelled',
      'inventory-C StockReleased',
    ]);
    expect(new Set(events.map((e) => e.correlationId))).toEqual(new Set([correlation]));
  });

  it('events --all --type (repeated and comma-separated), and --since/--until by position', async () => {
    const declined = await readStream(side, `order-${histories.declined}`);
    const from = declined[0]?.position ?? 0n;
    const to = declined[declined.length - 1]?.position ?? 0n;
    const [typed, window] = await Promise.all([
      keel('events', '--all', '--type', 'OrderCancelled,OrderConfirmed', '--type', 'PaymentFailed', '--ndjson'),
      keel('events', '--all', '--since', from.toString(), '--until', to.toString(), '--json'),
    ]);
    const byType = ok(typed).stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as EventJson);
    const expected: string[] = [];
    const between: string[] = [];
    for await (const event of side.store.readAll()) {
      if (['OrderCancelled', 'OrderConfirmed', 'PaymentFailed'].includes(event.type)) expected.push(event.id);
      if (event.position >= from && event.position <= to) between.push(event.id);
    }
    expect(byType.map((e) => e.id)).toEqual(expected);
    // 5 confirmed + the cancelled of the race, the other four orders, one declined payment.
    expect(new Set(byType.map((e) => e.type))).toEqual(new Set(['OrderCancelled', 'OrderConfirmed', 'PaymentFailed']));
    const windowed = parsed<EventJson[]>(window);
    expect(windowed.map((e) => e.id)).toEqual(between);
    expect(windowed[0]?.type).toBe('OrderPlaced');
    expect(windowed[windowed.length - 1]?.type).toBe('OrderCancelled');
  });

  it('replay of the declined order: each event with its diff, then the final state', async () => {
    const { stdout } = ok(await keel('replay', `order-${histories.declined}`));
    expect(stdout).toMatch(/^#0 OrderPlaced {2}position \d+ {2}\S+Z {2}by test {2}\(PlaceOrder \S+\)$/m);
    expect(stdout).toContain('    ~ status: "none" → "pending"');
    expect(stdout).toContain('    + orderId: "r-declined"');
    expect(stdout).toMatch(/^#1 OrderCancelled {2}position \d+ .* by process:order-fulfilment {2}\(CancelOrder \S+:cancel\)$/m);
    for (const line of DIFF_DECLINED) expect(stdout).toContain(line);
    expect(stdout).toContain('State of order-r-declined (order) after revision 1 of 1, 2 event(s) folded:');
    // No colour when not on a terminal.
    expect(stdout).not.toContain('\u001b[');
    const final = JSON.parse(stdout.slice(stdout.indexOf('\n{') + 1)) as Record<string, unknown>;
    expect(final).toMatchObject({ status: 'cancelled', orderId: 'r-declined', reason: 'payment failed: card_declined' });
  });

  it('replay --to-revision 0 (the state after exactly revision 0), and --at before the stream began (exit 2)', async () => {
    const [boundary, early] = await Promise.all([
      keel('replay', `order-${histories.declined}`, '--to-revision', '0', '--json'),
      keel('replay', `order-${histories.declined}`, '--at', '2000-01-01T00:00:00Z'),
    ]);
    const doc = parsed<{ steps: { event: EventJson; changes: { kind: string; path: string }[] }[]; final: Record<string, unknown>; stop: { reason: string }; revision: string }>(boundary);
    expect(doc.steps.map((s) => s.event.type)).toEqual(['OrderPlaced']);
    expect(doc.steps[0]?.changes).toContainEqual({ kind: 'changed', path: 'status', before: 'none', after: 'pending' });
    expect(doc.revision).toBe('0');
    expect(doc.final).toMatchObject({ status: 'pending', orderId: 'r-declined' });
    expect(doc.final).not.toHaveProperty('reason');
    expect(doc.stop).toEqual({ reason: 'to-revision' });

    expect(early.code).toBe(2);
    expect(early.stderr).toContain('"order-r-declined" did not exist at 2000-01-01T00:00:00.000Z');
    expect(early.stderr).toContain('[KEEL_ERR_REPLAY_BAD_TIME]');
  });

  it('replay --until: the stop with its command and causes; on the hot inventory stream; never holding (exit 1)', async () => {
    const [declined, hot, never] = await Promise.all([
      keel('replay', `order-${histories.declined}`, '--until', 'status == "cancelled"', '--quiet'),
      keel('replay', histories.hotStream, '--until', 'reserved >= 4', '--json'),
      keel('replay', `order-${histories.confirmed}`, '--until', 'status == "cancelled"', '--quiet'),
    ]);
    const text = ok(declined).stdout;
    expect(text).toMatch(/^status == "cancelled" first holds after #1 OrderCancelled \(position \d+, \S+, by process:order-fulfilment\)$/m);
    expect(text).toMatch(/^ {2}command: CancelOrder \S+:cancel \{.*"reason":"payment failed: card_declined".*\}$/m);
    expect(text).toMatch(/^ {2}caused by: PaymentFailed {2}payment-r-declined@1 {2}position \d+ {2}by process:order-fulfilment {2}.*reason=card_declined/m);
    expect(text).toMatch(/└ caused by: PaymentRequested {2}payment-r-declined@0/);
    expect(text).toMatch(/└ caused by: OrderPlaced {2}order-r-declined@0/);
    // --quiet: no steps.
    expect(text).not.toContain('#0 OrderPlaced');

    const doc = parsed<{ steps: unknown[]; final: Record<string, number>; stop: { reason: string; event: EventJson; command: { type: string; data: Record<string, unknown> }; causes: EventJson[] } }>(hot);
    expect(doc.stop.reason).toBe('condition');
    expect(doc.stop.event.type).toBe('StockReserved');
    expect(doc.final.reserved).toBe(4);
    expect(doc.stop.command.type).toBe('ReserveStock');
    expect(doc.stop.command.data).toMatchObject({ sku: 'HOT', quantity: 2 });
    expect(doc.stop.causes[0]?.type).toBe('OrderPlaced');
    expect(doc.steps.length).toBeGreaterThan(0);

    expect(never.code).toBe(1);
    expect(never.stderr).toContain('The condition "status == "cancelled"" never held in order-r-confirmed');
    expect(JSON.parse(never.stdout)).toMatchObject({ status: 'confirmed' });
  });

  it('replay --decide (a refusal is an answer: exit 0) and --redecide (all the same: exit 0)', async () => {
    const cancel = JSON.stringify({ type: 'CancelOrder', data: { orderId: histories.confirmed, reason: 'changed my mind' } });
    const [refused, wouldCancel, again] = await Promise.all([
      keel('replay', `order-${histories.confirmed}`, '--decide', cancel),
      keel('replay', `order-${histories.confirmed}`, '--decide', cancel, '--at-revision', '0', '--json'),
      keel('replay', `order-${histories.confirmed}`, '--redecide'),
    ]);
    expect(ok(refused).stdout).toContain('CancelOrder against order-r-confirmed at revision 1 (its last):');
    expect(refused.stdout).toContain('refused: The order is no longer pending. [KEEL_ERR_ORDER_NOT_PENDING]');

    const decided = parsed<{ revision: string; decision: { kind: string; events: { type: string; data: Record<string, unknown> }[]; state: Record<string, unknown> } }>(wouldCancel);
    expect(decided.revision).toBe('0');
    expect(decided.decision.kind).toBe('events');
    expect(decided.decision.events).toEqual([{ type: 'OrderCancelled', data: expect.objectContaining({ orderId: 'r-confirmed', reason: 'changed my mind' }) }]);
    expect(decided.decision.state).toMatchObject({ status: 'cancelled' });
    // Nothing was appended.
    expect((await readStream(side, `order-${histories.confirmed}`)).map((e) => e.type)).toEqual(['OrderPlaced', 'OrderConfirmed']);

    expect(ok(again).stdout.trim()).toBe('order-r-confirmed: 2 command(s): 2 same, 0 different, 0 refused now, 0 invalid now, 0 not recorded');
  });

  it('explain order: the declined, out-of-stock and expired orders, tree and timeline', async () => {
    const [declined, outOfStock, expired] = await Promise.all([
      keel('explain', 'order', histories.declined),
      keel('explain', 'order', histories.outOfStock, '--timeline'),
      keel('explain', 'order', histories.expired, '--json'),
    ]);
    const tree = ok(declined).stdout.trimEnd().split('\n');
    expect(tree[0]).toBe('Order r-declined: 6 event(s) in 3 stream(s)');
    expect(tree[2]).toMatch(/^POSITION\s+STREAM@REV\s+TYPE\s+ACTOR\s+DATA$/);
    expect(tree[3]).toMatch(/^\d+\s+order-r-declined@0\s+OrderPlaced\s+test\s+.*lines=/);
    expect(tree[4]).toMatch(/^├─ \d+\s+inventory-C@4\s+StockReserved\s+process:order-fulfilment\s+.*quantity=4/);
    expect(tree[5]).toMatch(/^└─ \d+\s+payment-r-declined@0\s+PaymentRequested\s/);
    expect(tree[6]).toMatch(/^ {3}└─ \d+\s+payment-r-declined@1\s+PaymentFailed\s+process:order-fulfilment\s+.*reason=card_declined/);
    expect(tree[7]).toMatch(/^ {6}└─ \d+\s+order-r-declined@1\s+OrderCancelled\s/);
    expect(tree[8]).toMatch(/^ {9}└─ \d+\s+inventory-C@5\s+StockReleased\s/);
    expect(tree[9]).toBe('');
    expect(tree[10]).toMatch(/^reservation of C until \S+: released \(set by StockReserved at position \d+\)$/);
    expect(tree[tree.length - 1]).toMatch(/^cancelled: payment declined: card_declined \(PaymentFailed at position \d+\)$/);
    expect(declined.stderr).toBe('');

    const timeline = ok(outOfStock).stdout.trimEnd().split('\n');
    const rows = timeline.slice(3, timeline.indexOf('', 3));
    expect(rows.map((l) => l.split(/\s+/)[2])).toEqual(['OrderPlaced', 'StockReserved', 'OrderCancelled', 'StockReleased']);
    const positions = rows.map((l) => BigInt(l.split(/\s+/)[0] ?? '0'));
    expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
    expect(timeline[timeline.length - 1]).toMatch(/^cancelled: out of stock on B: its reservation was refused/);

    const story = parsed<{
      subject: { kind: string; id: string };
      events: EventJson[];
      roots: { event: EventJson; children: unknown[] }[];
      verdict: { status: string; text: string; cause: EventJson };
      deadlines: { sku: string; outcome: string }[];
      scannedPastIndex: number;
    }>(expired);
    expect(story.subject).toMatchObject({ kind: 'order', id: 'r-expired' });
    expect(story.verdict.status).toBe('cancelled');
    expect(story.verdict.text).toMatch(/^cancelled: the reservation deadline \S+ passed while the payment was still pending/);
    expect(story.verdict.cause.type).toBe('OrderCancelled');
    expect(story.events.map((e) => e.type)).toContain('PaymentRefunded');
    expect(story.roots.map((r) => r.event.type)).toEqual(['OrderPlaced', 'OrderCancelled']);
    expect(story.deadlines).toEqual([expect.objectContaining({ sku: 'C', outcome: 'released' })]);
    expect(story.scannedPastIndex).toBe(0);
  });

  it('an unknown stream and an unknown order: exit 1 with the coded message', async () => {
    const [stream, order, events] = await Promise.all([keel('replay', 'order-nope'), keel('explain', 'order', 'nope'), keel('events', 'inventory-NOPE')]);
    expect(stream.code).toBe(1);
    expect(stream.stderr).toContain('No stream "order-nope" in the event store. Find streams with: keel events --all --stream-prefix <prefix> [KEEL_ERR_STREAM_NOT_FOUND]');
    expect(order.code).toBe(1);
    expect(order.stderr).toContain('No order "nope"');
    expect(order.stderr).toContain('[KEEL_ERR_ORDER_NOT_FOUND]');
    expect(events.code).toBe(1);
    expect(events.stderr).toContain('[KEEL_ERR_STREAM_NOT_FOUND]');
  });

  it('events --all --ndjson --follow: tails a live event, exits 0 on SIGINT; explain then warns the index lags', async () => {
    // The position of the last event (on PostgreSQL the head is a horizon, not always an event's).
    let head = -1n;
    for await (const event of side.store.readAll()) head = event.position;
    const base = { ...process.env };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'EVENTSTORE_URL', 'PORT', 'HOST', 'KEEL_DATA_DIR']) delete base[name];
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/projector-cli.ts', 'events', '--all', '--ndjson', '--follow', '--since', head.toString()], {
      cwd: root,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const until = async (what: string, check: () => boolean, ms = 60_000): Promise<void> => {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${what} not seen\nstdout:\n${stdout}\nstderr:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const lines = () => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as EventJson);
    try {
      // --since the last event: the history is that event; once it is out, the tail is live.
      await until('the last event', () => lines().some((e) => e.position === head.toString()));
      await commandsOn(side.store).commerce.receiveStock({ sku: 'A', quantity: 3 }, at());
      await until('the live StockReceived', () => lines().some((e) => e.type === 'StockReceived' && BigInt(e.position) > head));
      const live = lines().find((e) => e.type === 'StockReceived' && BigInt(e.position) > head);
      expect(live).toMatchObject({ streamId: 'inventory-A', data: { sku: 'A', quantity: 3 }, actor: 'test', commandType: 'ReceiveStock' });
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    // The event index has not seen that event: explain still finds it, scanning, and says so.
    const story = await keel('explain', 'inventory-A', '--last', '1');
    expect(ok(story).stdout).toMatch(/StockReceived\s+test\s+.*quantity=3/);
    expect(story.stderr).toContain('warning: the event index is 1 events behind; the rest was scanned: run a projector, `keel serve --role projector`');
  });
});

// Embedded PGlite is one process: the test writes the histories, closes its handle, then the CLI
// opens the data directory (KEEL_DATA_DIR) for each command.
describe('keel replay / explain on PGlite (CLI)', { timeout: 240_000 }, () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-replay-cli-'));
    const handle = await openDatabase({ dataDir: dir });
    const store = await openEventStore(handle);
    try {
      await writeReplayHistories({ handle, store, url: undefined, close: () => Promise.resolve() });
      await indexToHead({ handle, store });
    } finally {
      await store.close();
      await handle.close();
    }
    env = { KEEL_DATA_DIR: dir };
  }, 180_000);
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  // One at a time: the data directory admits one process.
  it('replay with diffs, explain order, redecide', async () => {
    const replay = ok(await runCli(['replay', 'order-r-declined'], env, 120_000)).stdout;
    for (const line of DIFF_DECLINED) expect(replay).toContain(line);

    const explain = ok(await runCli(['explain', 'order', 'r-declined'], env, 120_000)).stdout.trimEnd().split('\n');
    expect(explain).toContainEqual(expect.stringMatching(/^ {3}└─ \d+\s+payment-r-declined@1\s+PaymentFailed\s/));
    expect(explain[explain.length - 1]).toMatch(/^cancelled: payment declined: card_declined \(PaymentFailed at position \d+\)$/);

    const redecide = ok(await runCli(['replay', 'inventory-HOT', '--redecide'], env, 120_000)).stdout;
    expect(redecide).toMatch(/^inventory-HOT: (\d+) command\(s\): \1 same, 0 different, 0 refused now, 0 invalid now, 0 not recorded$/m);
  });
});
