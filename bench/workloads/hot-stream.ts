/**
 * A hot inventory stream for the replay and explain benchmarks, appended straight to the event
 * store (through the command handler a million events would take hours): `inventory-<sku>` gets
 * SkuTracked and one big StockReceived (when the stream is new), then StockReserved /
 * StockCommitted pairs, one pair per order, each order id distinct, so the decider's reservation
 * map never holds more than one entry. Every event carries what the command handler writes for the
 * fulfilment process manager's ReserveStock / CommitStock (commandId `<causing event id>:reserve:<sku>`,
 * correlationId of the order's placement, causationId, actor, timestamp, commandType, commandData;
 * the event id derived from the command id as the handler derives it), and passes the production
 * schemas (replay parses every event through them).
 *
 * Appends of BATCH events chained by expected revision; the next batch is built while the current
 * one is written.
 */
import { randomUUID } from 'node:crypto';
import { eventIdFor } from '../../src/commands/handler/event-ids.js';
import type { EventData, EventStore } from '../../src/eventstore/port.js';
import { MAX_QUANTITY } from '../../src/events/index.js';

export const HOT_BATCH = 1_000;
/** Units one StockReceived brings (the schema's maximum); each order takes one. */
const RECEIVED = MAX_QUANTITY;
const START = Date.parse('2026-11-01T00:00:00.000Z');
const HOLD_MS = 15 * 60_000;
const ACTOR = 'process:order-fulfilment';
const CLIENT = 'bench-client';

export interface HotStreamSeed {
  readonly sku: string;
  readonly productId: string;
  /** Events to append (the first two are SkuTracked and StockReceived when `after` is -1n). */
  readonly events: number;
  /** Revision of the stream's last event, -1n for a new stream. */
  readonly after?: bigint;
  /** Number of the first order (order ids `<orderPrefix>-<n>`), so continuations stay distinct. */
  readonly firstOrder?: number;
  readonly orderPrefix?: string;
  readonly batch?: number;
  /** Called after each append with the events appended so far. */
  readonly onProgress?: (appended: number) => void;
}

export interface HotStreamSeeded {
  readonly streamId: string;
  readonly appended: number;
  /** Revision and position of the last event. */
  readonly revision: bigint;
  readonly position: bigint;
  /** The next free order number (pass as `firstOrder` to continue). */
  readonly nextOrder: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** One command's one event, with the metadata the handler stamps (toEventData, index 0). */
const handled = (
  type: string,
  data: Record<string, unknown>,
  command: { readonly commandId: string; readonly type: string; readonly data: Record<string, unknown> },
  context: { readonly actor: string; readonly now: string; readonly correlationId?: string; readonly causationId?: string },
): EventData => ({
  id: eventIdFor(command.commandId, 0),
  type,
  data,
  schemaVersion: 1,
  metadata: {
    commandId: command.commandId,
    correlationId: context.correlationId ?? command.commandId,
    causationId: context.causationId ?? command.commandId,
    actor: context.actor,
    timestamp: context.now,
    commandType: command.type,
    commandData: command.data,
  },
});

/** SkuTracked and StockReceived as listProduct / receiveStock write them (client commands). */
const openingEvents = (sku: string, productId: string): EventData[] => {
  const now = iso(START);
  const track = `${randomUUID()}:track-sku`;
  const receive = randomUUID();
  return [
    handled('SkuTracked', { sku, productId }, { commandId: track, type: 'TrackSku', data: { sku, productId, now } }, { actor: CLIENT, now }),
    handled(
      'StockReceived',
      { sku, quantity: RECEIVED },
      { commandId: receive, type: 'ReceiveStock', data: { sku, quantity: RECEIVED, now } },
      { actor: CLIENT, now },
    ),
  ];
};

/** Order n's reservation and commit, as the process manager's reactions write them. */
const orderPair = (sku: string, orderId: string, n: number): [EventData, EventData] => {
  const placedAt = START + n * 1_000;
  const correlationId = randomUUID(); // the client's PlaceOrder command id
  const orderPlacedId = eventIdFor(correlationId, 0);
  const authorizedId = randomUUID();
  const reservedAt = iso(placedAt + 5);
  const committedAt = iso(placedAt + 40);
  const expiresAt = iso(placedAt + HOLD_MS);
  const reserveId = `${orderPlacedId}:reserve:${sku}`;
  const commitId = `${authorizedId}:commit:${sku}`;
  return [
    handled(
      'StockReserved',
      { sku, orderId, quantity: 1, expiresAt, reservedAt },
      { commandId: reserveId, type: 'ReserveStock', data: { sku, orderId, quantity: 1, expiresAt, now: reservedAt } },
      { actor: ACTOR, now: reservedAt, correlationId, causationId: orderPlacedId },
    ),
    handled(
      'StockCommitted',
      { sku, orderId, quantity: 1, committedAt },
      { commandId: commitId, type: 'CommitStock', data: { sku, orderId, now: committedAt } },
      { actor: ACTOR, now: committedAt, correlationId, causationId: authorizedId },
    ),
  ];
};

/** Appends `events` events to `inventory-<sku>`; one order takes one unit (at most ~1,000,000 orders per stream). */
export const seedHotStream = async (store: EventStore, seed: HotStreamSeed): Promise<HotStreamSeeded> => {
  const { sku, productId, events } = seed;
  const streamId = `inventory-${sku}`;
  const batch = seed.batch ?? HOT_BATCH;
  const prefix = seed.orderPrefix ?? `hot-${sku}`;
  let order = seed.firstOrder ?? 0;
  const pending: EventData[] = seed.after === undefined || seed.after < 0n ? openingEvents(sku, productId) : [];
  let made = pending.length;
  const build = (): EventData[] => {
    while (pending.length < batch && made < events) {
      const [reserved, committed] = orderPair(sku, `${prefix}-${order}`, order);
      order += 1;
      pending.push(reserved);
      made += 1;
      if (made < events) {
        pending.push(committed);
        made += 1;
      }
    }
    return pending.splice(0, Math.min(batch, pending.length));
  };
  let revision = seed.after ?? -1n;
  let position = -1n;
  let appended = 0;
  let next = build();
  while (next.length > 0) {
    const writing = store.append(streamId, next, { expectedRevision: revision < 0n ? 'no_stream' : revision });
    const count = next.length;
    next = build();
    const result = await writing;
    revision = result.nextExpectedRevision;
    position = result.position;
    appended += count;
    seed.onProgress?.(appended);
  }
  return { streamId, appended, revision, position, nextOrder: order };
};
