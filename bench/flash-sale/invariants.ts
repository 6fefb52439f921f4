/**
 * The invariants of a flash sale, checked after the run from the event log (the truth), then the
 * read models, the Redis entries, the payment provider's charges and what each buyer was told
 * against it. Each check is PASS or FAIL with the first offending cases named.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { Redis } from 'ioredis';
import { inventoryAggregate } from '../../src/commands/aggregates.js';
import type { InventoryState } from '../../src/commands/inventory/index.js';
import type { RecordedEvent } from '../../src/eventstore/port.js';
import type { BuyerRecord } from './protocol.js';

export interface Check {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

/** What the log says about one order. */
export interface OrderFacts {
  readonly orderId: string;
  readonly customerId: string;
  readonly placedAt: number;
  placedCount: number;
  outcomes: Array<{ readonly type: 'OrderConfirmed' | 'OrderCancelled'; readonly at: number; readonly reason?: string }>;
}

export interface LogFacts {
  readonly events: number;
  readonly orders: ReadonlyMap<string, OrderFacts>;
  readonly ordersByCustomer: ReadonlyMap<string, readonly string[]>;
  readonly inventory: InventoryState;
  /** Checked at every event of the inventory stream. */
  readonly inventoryViolations: readonly string[];
  readonly commitsByOrder: ReadonlyMap<string, number>;
  readonly authorizedPayments: ReadonlyMap<string, number>;
  readonly refundedPayments: ReadonlyMap<string, number>;
  readonly lastEventAt: number;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const dataOf = (event: RecordedEvent): Readonly<Record<string, unknown>> =>
  typeof event.data === 'object' && event.data !== null ? (event.data as Readonly<Record<string, unknown>>) : {};

/** One pass over the log, the inventory stream of `sku` folded through the production decider. */
export const factsOfLog = async (events: AsyncIterable<RecordedEvent>, sku: string, units: number): Promise<LogFacts> => {
  const orders = new Map<string, OrderFacts>();
  const ordersByCustomer = new Map<string, string[]>();
  const commitsByOrder = new Map<string, number>();
  const authorizedPayments = new Map<string, number>();
  const refundedPayments = new Map<string, number>();
  const inventoryViolations: string[] = [];
  const { decider } = inventoryAggregate;
  let inventory = decider.initialState();
  let count = 0;
  let lastEventAt = 0;
  const stream = `inventory-${sku}`;
  for await (const event of events) {
    count++;
    lastEventAt = Math.max(lastEventAt, event.createdAt.getTime());
    const data = dataOf(event);
    if (event.streamId === stream) {
      inventory = decider.evolve(inventory, inventoryAggregate.fromStored(event));
      if (inventory.status === 'tracked') {
        const { received, reserved, sold } = inventory;
        const available = received - reserved - sold;
        const where = `at revision ${event.revision} (${event.type}, position ${event.position})`;
        if (received > units) inventoryViolations.push(`received ${received} > ${units} ${where}`);
        if (available < 0 || reserved < 0 || sold < 0) inventoryViolations.push(`sold ${sold} + available ${available} + reserved ${reserved} with a negative term ${where}`);
        if (received === units && sold + available + reserved !== units) inventoryViolations.push(`sold + available + reserved = ${sold + available + reserved} ${where}`);
      }
      if (event.type === 'StockCommitted') commitsByOrder.set(str(data.orderId), (commitsByOrder.get(str(data.orderId)) ?? 0) + 1);
    }
    switch (event.type) {
      case 'OrderPlaced': {
        const orderId = str(data.orderId);
        const existing = orders.get(orderId);
        if (existing) existing.placedCount++;
        else {
          orders.set(orderId, { orderId, customerId: str(data.customerId), placedAt: event.createdAt.getTime(), placedCount: 1, outcomes: [] });
          const mine = ordersByCustomer.get(str(data.customerId)) ?? [];
          mine.push(orderId);
          ordersByCustomer.set(str(data.customerId), mine);
        }
        break;
      }
      case 'OrderConfirmed':
      case 'OrderCancelled':
        orders.get(str(data.orderId))?.outcomes.push({ type: event.type, at: event.createdAt.getTime(), ...(event.type === 'OrderCancelled' ? { reason: str(data.reason) } : {}) });
        break;
      case 'PaymentAuthorized':
        authorizedPayments.set(str(data.paymentId), (authorizedPayments.get(str(data.paymentId)) ?? 0) + 1);
        break;
      case 'PaymentRefunded':
        refundedPayments.set(str(data.paymentId), (refundedPayments.get(str(data.paymentId)) ?? 0) + Number(data.amount ?? 0));
        break;
    }
  }
  return { events: count, orders, ordersByCustomer, inventory, inventoryViolations, commitsByOrder, authorizedPayments, refundedPayments, lastEventAt };
};

const check = (name: string, failures: readonly string[], passDetail: string): Check => ({
  name,
  pass: failures.length === 0,
  detail: failures.length === 0 ? passDetail : `${failures.length} case(s): ${failures.slice(0, 3).join('; ')}`,
});

export interface InvariantInputs {
  readonly facts: LogFacts;
  readonly records: readonly BuyerRecord[];
  readonly units: number;
  readonly sku: string;
  /** Epoch ms when the sale's last checkout was accepted, and the bound on an outcome after it. */
  readonly saleEndedAt: number;
  readonly outcomeBoundMs: number;
  readonly db: Kysely<unknown>;
  readonly redisUrl: string;
  readonly redisKeyPrefix: string;
  /** Payment ids the provider charged (each listed once per charge). */
  readonly charges: readonly string[];
  /** Seconds of the largest projection lag seen once the sale was over, and the time it took to get under a second. */
  readonly lagAfterSale: { readonly underOneSecondAfterMs: number | null; readonly lagSeconds: number };
}

export const checkInvariants = async (input: InvariantInputs): Promise<Check[]> => {
  const { facts, records, units } = input;
  const checks: Check[] = [];
  const inv = facts.inventory;
  const tracked = inv.status === 'tracked' ? inv : undefined;

  checks.push(check('units: sold + available + reserved = units at every point of the log', [...facts.inventoryViolations, ...(tracked?.received === units ? [] : [`received ${tracked?.received ?? 'nothing'}, not ${units}`])], `${units} units at each of the inventory stream's events; at the end sold ${tracked?.sold ?? 0}, reserved ${tracked?.reserved ?? 0}`));

  const doubleCommits = [...facts.commitsByOrder].filter(([, n]) => n > 1).map(([id, n]) => `${id} committed ${n} times`);
  const sold = tracked?.sold ?? 0;
  const confirmed = [...facts.orders.values()].filter((o) => o.outcomes.some((x) => x.type === 'OrderConfirmed'));
  const confirmedWithoutCommit = confirmed.filter((o) => (facts.commitsByOrder.get(o.orderId) ?? 0) !== 1).map((o) => `${o.orderId} confirmed with ${facts.commitsByOrder.get(o.orderId) ?? 0} commits`);
  checks.push(check('no unit sold twice (0 oversold)', [...doubleCommits, ...confirmedWithoutCommit, ...(sold > units ? [`sold ${sold} > ${units}`] : [])], `${sold} sold, each to one confirmed order`));

  const outcomeFailures: string[] = [];
  let latestOutcome = 0;
  for (const order of facts.orders.values()) {
    if (order.outcomes.length !== 1) outcomeFailures.push(`${order.orderId}: ${order.outcomes.length} outcomes (${order.outcomes.map((o) => o.type).join(', ') || 'none'})`);
    for (const outcome of order.outcomes) latestOutcome = Math.max(latestOutcome, outcome.at);
  }
  const afterSale = latestOutcome - input.saleEndedAt;
  if (afterSale > input.outcomeBoundMs) outcomeFailures.push(`the last outcome came ${afterSale} ms after the sale (bound ${input.outcomeBoundMs} ms)`);
  checks.push(check('every accepted order has exactly one outcome, in bounded time', outcomeFailures, `${facts.orders.size.toLocaleString('en-US')} orders, each confirmed or cancelled; the last ${Math.max(0, afterSale)} ms after the sale's last checkout (bound ${input.outcomeBoundMs} ms)`));

  const toldFailures: string[] = [];
  for (const record of records) {
    const placed = facts.ordersByCustomer.get(record.customer) ?? [];
    const order = record.orderId === undefined ? undefined : facts.orders.get(record.orderId);
    const outcome = order?.outcomes[0]?.type;
    if (record.told === 'unknown') toldFailures.push(`${record.customer} has no final answer`);
    else if (record.told === 'confirmed' && outcome !== 'OrderConfirmed') toldFailures.push(`${record.customer} told confirmed, log: ${outcome ?? 'no order'}`);
    else if (record.told === 'cancelled' && outcome !== 'OrderCancelled') toldFailures.push(`${record.customer} told cancelled, log: ${outcome ?? 'no order'}`);
    else if (record.told === 'accepted' && order === undefined) toldFailures.push(`${record.customer} told accepted, the log has no order ${record.orderId ?? ''}`);
    else if ((record.told === 'refused' || record.told === 'error') && placed.length > 0) toldFailures.push(`${record.customer} told ${record.told} (${record.reason ?? ''}) but order ${placed[0]} went through`);
  }
  checks.push(check("what each buyer was told agrees with the log", toldFailures, `${records.length.toLocaleString('en-US')} buyers, each with a final answer the log confirms`));

  const keyFailures: string[] = [];
  for (const [customer, ids] of facts.ordersByCustomer) if (ids.length > 1) keyFailures.push(`${customer} has ${ids.length} orders`);
  for (const order of facts.orders.values()) if (order.placedCount > 1) keyFailures.push(`${order.orderId} placed ${order.placedCount} times`);
  for (const record of records) {
    if (record.duplicateOrderId !== undefined && record.duplicateOrderId !== record.orderId) keyFailures.push(`${record.customer}: twin request answered ${record.duplicateOrderId}, first ${record.orderId ?? 'none'}`);
    if (record.resubmitted !== undefined && record.resubmitted !== record.orderId) keyFailures.push(`${record.customer}: re-submission answered ${record.resubmitted}, order ${record.orderId ?? 'none'}`);
    for (const note of record.notes) if (note.startsWith('a retry of the same key')) keyFailures.push(`${record.customer}: ${note}`);
  }
  const duplicates = records.filter((r) => r.behaviour === 'duplicate').length;
  checks.push(check('one order per idempotency key', keyFailures, `${facts.orders.size.toLocaleString('en-US')} orders for ${records.length.toLocaleString('en-US')} keys; ${duplicates} duplicate submitters answered their one order`));

  const paymentFailures: string[] = [];
  const chargeCount = new Map<string, number>();
  for (const id of input.charges) chargeCount.set(id, (chargeCount.get(id) ?? 0) + 1);
  for (const [id, n] of chargeCount) if (n > 1) paymentFailures.push(`payment ${id} charged ${n} times`);
  for (const [id, n] of facts.authorizedPayments) {
    if (n > 1) paymentFailures.push(`payment ${id} authorized ${n} times in the log`);
    if (!chargeCount.has(id)) paymentFailures.push(`payment ${id} authorized in the log but never charged by the provider`);
    const order = facts.orders.get(id);
    const isConfirmed = order?.outcomes.some((o) => o.type === 'OrderConfirmed') === true;
    if (!isConfirmed && (facts.refundedPayments.get(id) ?? 0) <= 0) paymentFailures.push(`payment ${id} authorized for an order not confirmed, never refunded`);
  }
  for (const id of chargeCount.keys()) if (!facts.authorizedPayments.has(id)) paymentFailures.push(`the provider charged ${id}, the log has no authorization`);
  checks.push(check('every charge is in the log once; a charge for an unconfirmed order is refunded', paymentFailures, `${chargeCount.size} charges, ${facts.authorizedPayments.size} authorizations`));

  checks.push(await readModelsAgree(input));
  checks.push(await redisAgrees(input));
  const lag = input.lagAfterSale;
  checks.push(
    check('projection lag back under one second after the sale', lag.underOneSecondAfterMs === null ? [`still ${lag.lagSeconds} s behind`] : [], `every projection under 1 s of lag ${lag.underOneSecondAfterMs ?? '?'} ms after the last buyer's answer`),
  );
  return checks;
};

const readModelsAgree = async ({ db, facts, sku }: InvariantInputs): Promise<Check> => {
  const failures: string[] = [];
  const inv = facts.inventory;
  const { rows: board } = await sql<{ received: string; reserved: string; sold: string; units_left: string }>`SELECT received, reserved, sold, units_left FROM rm_flash_sale.board WHERE sku = ${sku}`.execute(db);
  const row = board[0];
  if (inv.status !== 'tracked') failures.push('the SKU is not tracked in the log');
  else if (row === undefined) failures.push('the board has no row for the SKU');
  else if (Number(row.received) !== inv.received || Number(row.reserved) !== inv.reserved || Number(row.sold) !== inv.sold) {
    failures.push(`board received/reserved/sold ${row.received}/${row.reserved}/${row.sold}, log ${inv.received}/${inv.reserved}/${inv.sold}`);
  }
  const { rows } = await sql<{ order_id: string; status: string; customer_id: string }>`SELECT order_id, status, customer_id FROM rm_orders.orders`.execute(db);
  const seen = new Set<string>();
  for (const r of rows) {
    seen.add(r.order_id);
    const order = facts.orders.get(r.order_id);
    const logStatus = order === undefined ? 'absent' : order.outcomes[0]?.type === 'OrderConfirmed' ? 'confirmed' : order.outcomes[0]?.type === 'OrderCancelled' ? 'cancelled' : 'pending';
    if (r.status !== logStatus) failures.push(`order ${r.order_id}: read model ${r.status}, log ${logStatus}`);
  }
  for (const id of facts.orders.keys()) if (!seen.has(id)) failures.push(`order ${id} missing from the orders read model`);
  return check('the board and the orders read model agree with the log', failures, `board row = log (received ${inv.status === 'tracked' ? inv.received : '?'}, sold ${inv.status === 'tracked' ? inv.sold : '?'}); ${rows.length.toLocaleString('en-US')} order rows = log`);
};

const redisAgrees = async ({ redisUrl, redisKeyPrefix, facts, sku }: InvariantInputs): Promise<Check> => {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const failures: string[] = [];
  let detail = '';
  try {
    await redis.connect();
    const [position, json] = await redis.hmget(`${redisKeyPrefix}cache:availability:${sku}`, 'p', 'v');
    const inv = facts.inventory;
    if (json === null || json === undefined) detail = `no availability entry for ${sku} (nothing cached: reads go to PostgreSQL)`;
    else {
      const cached = JSON.parse(json) as { received?: number; reserved?: number; sold?: number };
      if (inv.status !== 'tracked' || cached.received !== inv.received || cached.reserved !== inv.reserved || cached.sold !== inv.sold) {
        failures.push(`cached availability ${cached.received}/${cached.reserved}/${cached.sold} at position ${position ?? '?'}, log ${inv.status === 'tracked' ? `${inv.received}/${inv.reserved}/${inv.sold}` : 'untracked'}`);
      }
      detail = `the availability entry (position ${position ?? '?'}) = log`;
    }
  } catch (error) {
    failures.push(`Redis could not be read: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    redis.disconnect();
  }
  return check('the Redis entries agree with the log', failures, detail);
};
