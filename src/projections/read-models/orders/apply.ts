/**
 * The orders read model's batch handler: load the orders the batch concerns (with their lines),
 * fold, upsert the changed orders and lines, append the timeline rows (a row already there is
 * left alone), then announce `order:<orderId>` with the order's summary.
 */
import type { Transaction } from 'kysely';
import type { RecordedEvent } from '../../../eventstore/port.js';
import type { ApplyContext, ProjectionChange } from '../../projection.js';
import { orderTopic } from '../topics.js';
import { decodeBatch, distinct, lastPosition } from '../support/events.js';
import { foldOrder, ORDERS_EVENT_TYPES } from './fold.js';
import type { TimelineEntry } from './fold.js';
import { loadOrders, saveOrders, saveTimeline } from './rows.js';
import { getOrderSummariesIn } from './queries.js';
import type { OrdersTables, OrderStatus } from './tables.js';

export const applyOrders = async (
  trx: Transaction<unknown>,
  events: readonly RecordedEvent[],
  context: ApplyContext,
): Promise<readonly ProjectionChange[]> => {
  const db = trx.withSchema(context.schema).withTables<OrdersTables>();
  const decoded = decodeBatch(ORDERS_EVENT_TYPES, events);
  const orders = await loadOrders(db, distinct(decoded.map((e) => e.event.data.orderId)));
  const statusBefore = new Map<string, OrderStatus>([...orders].map(([id, o]) => [id, o.status]));
  const changed = new Set<string>();
  const timeline: TimelineEntry[] = [];
  for (const e of decoded) {
    const { orderId } = e.event.data;
    const before = orders.get(orderId);
    const { order, entry } = foldOrder(before, e);
    if (order === undefined || order === before) continue;
    orders.set(orderId, order);
    changed.add(orderId);
    if (entry !== undefined) timeline.push(entry);
  }
  await saveOrders(db, [...changed].flatMap((id) => orders.get(id) ?? []));
  await saveTimeline(db, timeline);
  if (context.rebuilding || changed.size === 0) return [];
  const position = lastPosition(events);
  const summaries = await getOrderSummariesIn(db, [...changed]);
  return summaries.map((summary) => {
    const previousStatus = statusBefore.get(summary.orderId) ?? null;
    return {
      topic: orderTopic(summary.orderId),
      position,
      payload: {
        ...summary,
        updatedPosition: summary.updatedPosition.toString(),
        previousStatus,
        statusChanged: previousStatus !== summary.status,
      },
    };
  });
};
