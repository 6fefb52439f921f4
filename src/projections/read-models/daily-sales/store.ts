/**
 * Daily sales' rows in and out of a batch: load the SKU products and order lines the batch touches
 * (one query per table); save the new SKU products, the changed lines and the day totals (one
 * multi-row upsert per table: totals add up, a SKU's product is never replaced) and delete the
 * unsold lines of cancelled orders.
 */
import type { Insertable, Kysely } from 'kysely';
import { distinct } from '../support/events.js';
import type { Positioned } from '../support/events.js';
import { asText } from '../support/sql.js';
import { upsertRows } from '../support/upsert.js';
import { lineKey, orderOf, skuOf } from './fold.js';
import type { DailySalesChanges, DailySalesEventType, DailySalesRows, Line, Sale } from './fold.js';
import type { DailySalesDb, DailySalesTable, DailySalesTables, OrderLinesTable } from './tables.js';

const scoped = (db: Kysely<unknown>, schema: string): DailySalesDb => db.withSchema(schema).withTables<DailySalesTables>();

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

/** The SKU products and the order lines the batch's events concern, as stored. */
export const loadDailySales = async (
  db: Kysely<unknown>,
  schema: string,
  events: readonly Positioned<DailySalesEventType>[],
): Promise<DailySalesRows> => {
  const sales = scoped(db, schema);
  return {
    skus: await loadSkus(sales, distinct(events.flatMap(skuOf))),
    lines: await loadLines(sales, distinct(events.flatMap(orderOf))),
  };
};

const lineRow = (l: Line): Insertable<OrderLinesTable> => ({
  order_id: l.orderId,
  sku: l.sku,
  quantity: l.quantity,
  amount: l.amount,
  currency: l.currency,
  sold_position: l.soldPosition,
});

const dailySalesRow = (s: Sale): Insertable<DailySalesTable> => ({
  product_id: s.productId,
  day: s.day,
  currency: s.currency,
  units: s.units,
  revenue: s.revenue,
  orders: s.orders,
  last_sale_at: s.at,
  updated_position: s.position,
});

export const saveDailySales = async (db: Kysely<unknown>, schema: string, changes: DailySalesChanges): Promise<void> => {
  const skuRows = changes.skuProducts.map(({ sku, productId }) => ({ sku, product_id: productId }));
  await upsertRows(db, schema, 'sku_products', skuRows, { key: ['sku'] });
  await upsertRows(db, schema, 'order_lines', changes.lines.map(lineRow), {
    key: ['order_id', 'sku'],
    columns: ['quantity', 'amount', 'sold_position'],
  });
  if (changes.cancelledOrders.length > 0) {
    // A cancelled order never commits stock (commits follow confirmation): its lines are done with.
    await scoped(db, schema)
      .deleteFrom('order_lines')
      .where('order_id', 'in', changes.cancelledOrders)
      .where('sold_position', 'is', null)
      .execute();
  }
  await upsertRows(db, schema, 'daily_sales', changes.sales.map(dailySalesRow), {
    key: ['product_id', 'day', 'currency'],
    columns: ['updated_position'],
    merge: { units: 'add', revenue: 'add', orders: 'add', last_sale_at: 'greatest' },
  });
};
