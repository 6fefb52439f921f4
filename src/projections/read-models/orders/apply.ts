/**
 * The orders read model's batch handler: load the orders the batch concerns (with their lines),
 * fold, save the changed orders and lines and the new timeline rows (store.ts), then announce
 * `order:<orderId>` with the order's summary, its previous status and whether the status changed.
 */
import type { Transaction } from 'kysely';
import type { RecordedEvent } from '../../../eventstore/port.js';
import type { ApplyContext, ProjectionChange } from '../../projection.js';
import { orderTopic } from '../topics.js';
import { decodeBatch, lastPosition } from '../support/events.js';
import { foldOrders, ORDERS_EVENT_TYPES } from './fold.js';
import { getOrderSummariesIn } from './queries.js';
import { loadOrders, saveOrders } from './store.js';
import type { OrdersTables } from './tables.js';

export const applyOrders = async (
  trx: Transaction<unknown>,
  events: readonly RecordedEvent[],
  context: ApplyContext,
): Promise<readonly ProjectionChange[]> => {
  const decoded = decodeBatch(ORDERS_EVENT_TYPES, events);
  const loaded = await loadOrders(trx, context.schema, decoded);
  const changes = foldOrders(loaded, decoded);
  await saveOrders(trx, context.schema, changes);
  if (context.rebuilding || changes.orders.length === 0) return [];
  const position = lastPosition(events);
  const db = trx.withSchema(context.schema).withTables<OrdersTables>();
  const summaries = await getOrderSummariesIn(db, changes.orders.map((o) => o.orderId));
  return summaries.map((summary) => {
    const previousStatus = loaded.get(summary.orderId)?.status ?? null;
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
