/**
 * Daily sales' batch handler. A sale is a `StockCommitted`: the units of a reservation leave the
 * inventory for good, after the order was confirmed (its payment authorized). Nothing in Keel
 * undoes a commit, so the count never goes down. The sale is counted on the UTC day of
 * `committedAt`, for the product of the SKU (SkuTracked), at the order line's price (OrderPlaced).
 * Reservations, releases, cancellations and refunds of unconfirmed orders are not sales.
 * Load, fold, save (store.ts), then announce `daily-sales:<productId>` with each day total touched.
 */
import type { Transaction } from 'kysely';
import type { RecordedEvent } from '../../../eventstore/port.js';
import type { ApplyContext, ProjectionChange } from '../../projection.js';
import { dailySalesTopic } from '../topics.js';
import { decodeBatch, distinct, lastPosition } from '../support/events.js';
import { DAILY_SALES_EVENT_TYPES, foldDailySales } from './fold.js';
import { dailySalesIn } from './queries.js';
import { loadDailySales, saveDailySales } from './store.js';
import type { DailySalesTables } from './tables.js';
import { dailySalesToPayload } from './views.js';

export const applyDailySales = async (
  trx: Transaction<unknown>,
  events: readonly RecordedEvent[],
  context: ApplyContext,
): Promise<readonly ProjectionChange[]> => {
  const decoded = decodeBatch(DAILY_SALES_EVENT_TYPES, events);
  const changes = foldDailySales(await loadDailySales(trx, context.schema, decoded), decoded);
  await saveDailySales(trx, context.schema, changes);
  if (context.rebuilding || changes.sales.length === 0) return [];
  const position = lastPosition(events);
  const rows = await dailySalesIn(trx.withSchema(context.schema).withTables<DailySalesTables>(), {
    productIds: distinct(changes.sales.map((s) => s.productId)),
    days: distinct(changes.sales.map((s) => s.day)),
  });
  const touched = new Set(changes.sales.map((s) => JSON.stringify([s.productId, s.day, s.currency])));
  return rows
    .filter((row) => touched.has(JSON.stringify([row.productId, row.day, row.currency])))
    .map((row) => ({ topic: dailySalesTopic(row.productId), position, payload: dailySalesToPayload(row) }));
};
