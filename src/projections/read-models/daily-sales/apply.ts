/**
 * Daily sales' batch handler. A sale is a `StockCommitted`: the units of a reservation leave the
 * inventory for good, after the order was confirmed (its payment authorized). Nothing in Keel
 * undoes a commit, so the count never goes down. The sale is counted on the UTC day of
 * `committedAt`, for the product of the SKU (SkuTracked), at the order line's price (OrderPlaced).
 * Reservations, releases, cancellations and refunds of unconfirmed orders are not sales.
 */
import type { Transaction } from 'kysely';
import type { RecordedEvent } from '../../../eventstore/port.js';
import type { ApplyContext, ProjectionChange } from '../../projection.js';
import { dailySalesTopic } from '../topics.js';
import { decodeBatch, distinct, lastPosition } from '../support/events.js';
import { asText, chunks } from '../support/sql.js';
import { DAILY_SALES_EVENT_TYPES, fold, lineKey, orderOf, skuOf, sumSales } from './fold.js';
import type { Folded, Line } from './fold.js';
import { dailySalesIn, dailySalesToPayload } from './queries.js';
import type { DailySalesDb, DailySalesTables } from './tables.js';

export { DAILY_SALES_EVENT_TYPES };

const loadSkus = async (db: DailySalesDb, skus: readonly string[]): Promise<Map<string, string>> => {
  if (skus.length === 0) return new Map();
  const rows = await db.selectFrom('sku_products').select(['sku', 'product_id']).where('sku', 'in', skus).execute();
  return new Map(rows.map((r) => [r.sku, r.product_id]));
};

const loadLines = async (db: DailySalesDb, orderIds: readonly string[]): Promise<Map<string, Line>> => {
  if (orderIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('order_lines')
    .select(['order_id', 'sku', 'quantity', 'currency', asText('amount').as('amount'), asText('sold_position').as('sold_position')])
    .where('order_id', 'in', orderIds)
    .execute();
  return new Map(
    rows.map((r) => [
      lineKey(r.order_id, r.sku),
      {
        orderId: r.order_id,
        sku: r.sku,
        quantity: r.quantity,
        amount: Number(r.amount),
        currency: r.currency,
        soldPosition: r.sold_position === null ? null : BigInt(r.sold_position),
      },
    ]),
  );
};

const save = async (db: DailySalesDb, state: Folded): Promise<void> => {
  const skuRows = [...state.newSkus].flatMap((sku) => {
    const productId = state.skus.get(sku);
    return productId === undefined ? [] : [{ sku, product_id: productId }];
  });
  for (const chunk of chunks(skuRows)) {
    await db.insertInto('sku_products').values(chunk).onConflict((oc) => oc.column('sku').doNothing()).execute();
  }
  const lines = [...state.changedLines].flatMap((key) => state.lines.get(key) ?? []);
  for (const chunk of chunks(lines)) {
    await db
      .insertInto('order_lines')
      .values(
        chunk.map((l) => ({
          order_id: l.orderId,
          sku: l.sku,
          quantity: l.quantity,
          amount: l.amount,
          currency: l.currency,
          sold_position: l.soldPosition,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['order_id', 'sku']).doUpdateSet((eb) => ({
          quantity: eb.ref('excluded.quantity'),
          amount: eb.ref('excluded.amount'),
          sold_position: eb.ref('excluded.sold_position'),
        })),
      )
      .execute();
  }
  if (state.cancelledOrders.size > 0) {
    // A cancelled order never commits stock (commits follow confirmation): its lines are done with.
    await db.deleteFrom('order_lines').where('order_id', 'in', [...state.cancelledOrders]).where('sold_position', 'is', null).execute();
  }
  for (const chunk of chunks(sumSales(state.sales))) {
    await db
      .insertInto('daily_sales')
      .values(
        chunk.map((s) => ({
          product_id: s.productId,
          day: s.day,
          currency: s.currency,
          units: s.units,
          revenue: s.revenue,
          orders: s.orders,
          last_sale_at: s.at,
          updated_position: s.position,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['product_id', 'day', 'currency']).doUpdateSet((eb) => ({
          units: eb('daily_sales.units', '+', eb.ref('excluded.units')),
          revenue: eb('daily_sales.revenue', '+', eb.ref('excluded.revenue')),
          orders: eb('daily_sales.orders', '+', eb.ref('excluded.orders')),
          last_sale_at: eb.fn('greatest', ['daily_sales.last_sale_at', 'excluded.last_sale_at']),
          updated_position: eb.ref('excluded.updated_position'),
        })),
      )
      .execute();
  }
};

export const applyDailySales = async (
  trx: Transaction<unknown>,
  events: readonly RecordedEvent[],
  context: ApplyContext,
): Promise<readonly ProjectionChange[]> => {
  const db = trx.withSchema(context.schema).withTables<DailySalesTables>();
  const decoded = decodeBatch(DAILY_SALES_EVENT_TYPES, events);
  const state: Folded = {
    skus: await loadSkus(db, distinct(decoded.flatMap(skuOf))),
    newSkus: new Set(),
    lines: await loadLines(db, distinct(decoded.flatMap(orderOf))),
    changedLines: new Set(),
    cancelledOrders: new Set(),
    sales: [],
  };
  for (const e of decoded) fold(state, e);
  await save(db, state);
  if (context.rebuilding || state.sales.length === 0) return [];
  const position = lastPosition(events);
  const rows = await dailySalesIn(db, {
    productIds: distinct(state.sales.map((s) => s.productId)),
    days: distinct(state.sales.map((s) => s.day)),
  });
  const touched = new Set(state.sales.map((s) => JSON.stringify([s.productId, s.day, s.currency])));
  return rows
    .filter((row) => touched.has(JSON.stringify([row.productId, row.day, row.currency])))
    .map((row) => ({ topic: dailySalesTopic(row.productId), position, payload: dailySalesToPayload(row) }));
};
