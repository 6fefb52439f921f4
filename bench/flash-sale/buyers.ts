/**
 * The load generator of the flash sale, a process of its own:
 *
 *   node --import tsx bench/flash-sale/buyers.ts <settings.json>
 *
 * At the opening every buyer (a customer with a token of their own) checks out one unit, spread
 * over the API processes, on keep-alive connections, as concurrently as the pools allow. A buyer
 * whose request got no answer, or was shed, retries with the same idempotency key (on the next
 * API process when the connection failed). Then each learns the outcome as a front end would: a
 * subscription over WebSocket for some, polling with the consistency token for the others; some
 * re-send the same checkout, some give up and cancel. Each reads the flash-sale board at the end.
 * Writes what every buyer was told, and each answer's time, to the settings' `resultFile`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { signToken } from '../../src/api/tokens.js';
import { graphqlClient, subscribeUntil } from './client.js';
import type { Answer, GraphqlClient } from './client.js';
import type { BuyerRecord, BuyersResult, BuyersSettings, Sample } from './protocol.js';

const PLACE_ORDER = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId consistencyToken duplicate } }`;
const CANCEL_ORDER = `mutation ($input: CancelOrderInput!) { cancelOrder(input: $input) { orderId } }`;
const ORDER = `query ($id: ID!, $t: String) { order(id: $id, consistencyToken: $t) { status cancelReason } }`;
const ORDER_CHANGED = `subscription ($id: ID!, $after: String) { orderStatusChanged(orderId: $id, after: $after) { status cancelReason } }`;
const BOARD = `query { flashSaleBoard(first: 10) { sku unitsLeft reserved sold } }`;

const settingsFile = process.argv[2];
if (settingsFile === undefined) {
  console.error('usage: buyers.ts <settings.json>');
  process.exit(2);
}
const settings: BuyersSettings = JSON.parse(readFileSync(settingsFile, 'utf8')) as BuyersSettings;
const clients: GraphqlClient[] = settings.apis.map((url) => graphqlClient(url, settings.connectionsPerApi));
const since = (): number => Date.now() - settings.openingAt;
const checkouts: Sample[] = [];
const finals: Sample[] = [];
const reads: Sample[] = [];

const tokenOf = (customer: string): string =>
  signToken({ subject: customer, roles: ['customer'], secret: settings.jwtSecret, expiresInSeconds: 3_600 });

const isFinal = (status: unknown): boolean => status === 'CONFIRMED' || status === 'CANCELLED';
const stringOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const recordOf = (value: unknown): Readonly<Record<string, unknown>> | undefined =>
  typeof value === 'object' && value !== null ? (value as Readonly<Record<string, unknown>>) : undefined;

/** A shed or unanswered request is tried again; a refusal with any other code is the answer. */
const RETRIED_CODES: ReadonlySet<string> = new Set(['KEEL_ERR_OVERLOADED', 'KEEL_ERR_EVENTSTORE_UNAVAILABLE', 'KEEL_ERR_CONFLICT_RETRIES_EXHAUSTED', 'HTTP_502', 'HTTP_503', 'HTTP_504', 'RATE_LIMITED', 'KEEL_ERR_RATE_LIMITED', 'INTERNAL_SERVER_ERROR']);

/** Posts on the buyer's API; on a transport error, moves the buyer to the next API process. */
const post = async (buyer: { api: number }, query: string, variables: Readonly<Record<string, unknown>>, token: string, timeoutMs?: number): Promise<Answer> => {
  const client = clients[buyer.api % clients.length];
  if (client === undefined) throw new Error('no API process');
  const answer = await client.post(query, variables, token, timeoutMs);
  if (answer.kind === 'transport') buyer.api = (buyer.api + 1) % clients.length;
  return answer;
};

const checkout = async (record: BuyerRecord, token: string): Promise<{ orderId: string; consistencyToken: string } | undefined> => {
  const input = { idempotencyKey: record.key, currency: settings.currency, lines: [{ sku: settings.sku, quantity: 1, unitPrice: settings.price }] };
  for (let attempt = 1; ; attempt++) {
    const started = Date.now();
    const answer = await post(record, PLACE_ORDER, { input }, token);
    const latencyMs = Date.now() - started;
    record.attempts = attempt;
    const code = answer.kind === 'data' ? 'ok' : answer.code;
    checkouts.push({ t: since(), latencyMs, code, ...(answer.kind === 'transport' || answer.wireMs === undefined ? {} : { wireMs: answer.wireMs }) });
    if (answer.kind === 'data') {
      const placed = recordOf(answer.data.placeOrder);
      const orderId = stringOf(placed?.orderId);
      const consistencyToken = stringOf(placed?.consistencyToken);
      if (orderId === undefined || consistencyToken === undefined) throw new Error(`placeOrder answered ${JSON.stringify(answer.data)}`);
      if (record.orderId !== undefined && record.orderId !== orderId) record.notes.push(`a retry of the same key answered another order: ${record.orderId} then ${orderId}`);
      record.orderId = orderId;
      record.acceptedAt = since();
      return { orderId, consistencyToken };
    }
    record.errors.push(code);
    const retried = answer.kind === 'transport' || RETRIED_CODES.has(answer.code);
    if (!retried || attempt >= settings.checkoutAttempts || since() > settings.giveUpAfterMs) {
      record.told = retried ? 'error' : 'refused';
      record.reason = code;
      record.finalAt = since();
      finals.push({ t: record.finalAt, latencyMs: record.finalAt, code: record.told });
      return undefined;
    }
    const retryAfterMs = answer.kind === 'refused' && answer.retryAfterSeconds !== undefined ? answer.retryAfterSeconds * 1000 : 200;
    await sleep(Math.min(retryAfterMs, 2_000) * (0.5 + Math.random()));
  }
};

/** Polls the order: first with the consistency token (read-your-write), then every interval. */
const pollOutcome = async (record: BuyerRecord, token: string, orderId: string, consistencyToken: string): Promise<Readonly<Record<string, unknown>> | undefined> => {
  let first = true;
  let interval = settings.pollIntervalMs;
  while (since() < settings.giveUpAfterMs) {
    const started = Date.now();
    const answer = await post(record, ORDER, { id: orderId, t: first ? consistencyToken : null }, token);
    reads.push({ t: since(), latencyMs: Date.now() - started, code: answer.kind === 'data' ? 'ok' : answer.code });
    if (answer.kind === 'data') {
      first = false;
      const order = recordOf(answer.data.order);
      if (order !== undefined && isFinal(order.status)) return order;
    } else record.errors.push(`poll:${answer.code}`);
    await sleep(interval * (0.75 + Math.random() / 2));
    interval = Math.min(interval * 1.25, settings.pollIntervalMs * 4);
  }
  return undefined;
};

const learnOutcome = async (record: BuyerRecord, token: string, orderId: string, consistencyToken: string): Promise<void> => {
  let order: Readonly<Record<string, unknown>> | undefined;
  if (record.via === 'subscription') {
    const client = clients[record.api % clients.length];
    try {
      order = await subscribeUntil(client?.url ?? '', token, ORDER_CHANGED, { id: orderId, after: consistencyToken }, (data) => isFinal(recordOf(data.orderStatusChanged)?.status), Math.max(1_000, settings.giveUpAfterMs - since()));
      order = recordOf(order.orderStatusChanged);
    } catch (error) {
      // The socket failed (its API process died, say): the front end falls back to polling.
      record.notes.push(`subscription failed: ${error instanceof Error ? error.message : String(error)}`);
      record.via = 'subscription→poll';
      record.api = (record.api + 1) % clients.length;
    }
  }
  order ??= await pollOutcome(record, token, orderId, consistencyToken);
  record.finalAt = since();
  if (order === undefined) {
    record.told = 'unknown';
    finals.push({ t: record.finalAt, latencyMs: record.finalAt, code: 'unknown' });
    return;
  }
  record.told = order.status === 'CONFIRMED' ? 'confirmed' : 'cancelled';
  record.reason = stringOf(order.cancelReason);
  finals.push({ t: record.finalAt, latencyMs: record.finalAt, code: record.told });
};

const giveUp = async (record: BuyerRecord, token: string, orderId: string): Promise<void> => {
  await sleep(settings.giveUpCancelAfterMs);
  const answer = await post(record, CANCEL_ORDER, { input: { orderId, reason: 'buyer gave up', idempotencyKey: `${record.key}-cancel` } }, token);
  record.notes.push(`gave up: cancelOrder ${answer.kind === 'data' ? 'ok' : answer.code}`);
};

const runBuyer = async (n: number): Promise<BuyerRecord> => {
  const customer = `${settings.customerPrefix}${n}`;
  const record: BuyerRecord = {
    n,
    customer,
    key: `checkout-${n}`,
    api: n % clients.length,
    via: n % 100 < settings.subscribePercent ? 'subscription' : 'poll',
    behaviour: n % 100 < settings.duplicatePercent ? 'duplicate' : n % 100 >= 100 - settings.giveUpPercent ? 'give-up' : 'plain',
    attempts: 0,
    errors: [],
    notes: [],
    told: 'unknown',
  };
  const token = tokenOf(customer);
  const twin = record.behaviour === 'duplicate' ? checkout({ ...record, errors: [], notes: [], told: 'unknown' }, token) : undefined;
  const placed = await checkout(record, token);
  if (twin !== undefined) {
    // A double click: the same checkout sent twice at once must answer the same order.
    const other = await twin;
    if (other !== undefined) record.duplicateOrderId = other.orderId;
  }
  if (placed === undefined) return record;
  if (record.behaviour === 'give-up') void giveUp(record, token, placed.orderId);
  await learnOutcome(record, token, placed.orderId, placed.consistencyToken);
  if (record.behaviour === 'duplicate') {
    // And once more after the answer (a reload that re-submits the form): still the same order.
    const again = await post(record, PLACE_ORDER, { input: { idempotencyKey: record.key, currency: settings.currency, lines: [{ sku: settings.sku, quantity: 1, unitPrice: settings.price }] } }, token);
    const orderId = again.kind === 'data' ? stringOf(recordOf(again.data.placeOrder)?.orderId) : undefined;
    record.resubmitted = orderId ?? (again.kind === 'data' ? 'no order id' : again.code);
  }
  const board = await post(record, BOARD, {}, token);
  record.board = board.kind === 'data' ? 'ok' : board.code;
  return record;
};

/**
 * Reads the board every 100 ms: when it first showed no unit left, and when it showed every unit
 * sold (released units go back on sale, so the first can come well before the second).
 */
const watchBoard = async (stop: AbortSignal): Promise<{ firstSoldOutAt: number | null; allSoldAt: number | null }> => {
  const admin = signToken({ subject: 'flash-board-watcher', roles: ['admin'], secret: settings.jwtSecret, expiresInSeconds: 3_600 });
  const watcher = { api: 0 };
  let firstSoldOutAt: number | null = null;
  while (!stop.aborted) {
    const answer = await post(watcher, BOARD, {}, admin, 5_000);
    if (answer.kind === 'data') {
      const entries = Array.isArray(answer.data.flashSaleBoard) ? answer.data.flashSaleBoard : [];
      const entry = entries.map(recordOf).find((e) => e?.sku === settings.sku);
      if (entry !== undefined && entry.unitsLeft === 0) firstSoldOutAt ??= since();
      if (entry !== undefined && entry.unitsLeft === 0 && entry.reserved === 0 && entry.sold === settings.units) return { firstSoldOutAt, allSoldAt: since() };
    }
    await sleep(100);
  }
  return { firstSoldOutAt, allSoldAt: null };
};

const progress = setInterval(() => {
  const done = finals.length;
  process.stderr.write(`\r  t=${(since() / 1000).toFixed(1)}s checkouts answered ${checkouts.length.toLocaleString('en-US')}, final answers ${done.toLocaleString('en-US')}/${settings.buyers.toLocaleString('en-US')}   `);
}, 1_000);

const wait = settings.openingAt - Date.now();
if (wait > 0) await sleep(wait);
const boardStop = new AbortController();
const soldOut = watchBoard(boardStop.signal);
const records = await Promise.all(Array.from({ length: settings.buyers }, (_, n) => runBuyer(n)));
const allAnsweredAt = since();
// The board shows sold out once every unit is paid for: wait a little past the last answer.
const boardDeadline = setTimeout(() => boardStop.abort(), 10_000);
const board = await soldOut;
clearTimeout(boardDeadline);
boardStop.abort();
clearInterval(progress);
process.stderr.write('\n');
const result: BuyersResult = { openingAt: settings.openingAt, allAnsweredAt, board, records, checkouts, finals, reads };
writeFileSync(settings.resultFile, JSON.stringify(result));
await Promise.all(clients.map((c) => c.close()));
