/** Daily sales queries (live schema): per product and UTC day, in a range of days. */
import type { Kysely } from 'kysely';
import { liveSchemaOf } from '../../projection.js';
import { ValidationError } from '../../../platform/errors.js';
import { asDay, asText, toIso } from '../support/sql.js';
import type { DailySalesDb, DailySalesTables } from './tables.js';
import type { DailySalesRow } from './views.js';

export type { DailySalesRow } from './views.js';
export { dailySalesToPayload } from './views.js';

export const DAILY_SALES = 'daily_sales';

export interface DailySalesQuery {
  readonly productId?: string;
  /** First and last UTC day, inclusive, 'YYYY-MM-DD'. */
  readonly from: string;
  readonly to: string;
}

/** At most this many rows per query. */
export const MAX_DAILY_ROWS = 5_000;

const live = (db: Kysely<unknown>): DailySalesDb => db.withSchema(liveSchemaOf(DAILY_SALES)).withTables<DailySalesTables>();

const checkDay = (field: string, value: string): void => {
  const valid = /^\d{4}-\d{2}-\d{2}$/.test(value) && new Date(`${value}T00:00:00.000Z`).toISOString().startsWith(value);
  if (!valid) throw new ValidationError(field, 'must be a calendar day, YYYY-MM-DD');
};

export const dailySalesIn = async (
  db: DailySalesDb,
  keys: { readonly productIds?: readonly string[]; readonly from?: string; readonly to?: string; readonly days?: readonly string[] },
): Promise<DailySalesRow[]> => {
  let query = db
    .selectFrom('daily_sales')
    .select(['product_id', 'currency', 'orders', 'last_sale_at'])
    .select([
      asDay('day').as('day'),
      asText('units').as('units'),
      asText('revenue').as('revenue'),
      asText('updated_position').as('updated_position'),
    ]);
  if (keys.productIds !== undefined) query = query.where('product_id', 'in', keys.productIds);
  if (keys.days !== undefined) query = query.where('day', 'in', keys.days);
  if (keys.from !== undefined) query = query.where('day', '>=', keys.from);
  if (keys.to !== undefined) query = query.where('day', '<=', keys.to);
  const rows = await query.orderBy('daily_sales.day').orderBy('product_id').orderBy('currency').limit(MAX_DAILY_ROWS).execute();
  return rows.map((row) => ({
    productId: row.product_id,
    day: row.day,
    currency: row.currency,
    units: Number(row.units),
    revenue: Number(row.revenue),
    orders: row.orders,
    lastSaleAt: toIso(row.last_sale_at),
    updatedPosition: BigInt(row.updated_position),
  }));
};

/** Sales per product and UTC day between `from` and `to` (inclusive), of one product or all. */
export const dailySales = async (db: Kysely<unknown>, query: DailySalesQuery): Promise<readonly DailySalesRow[]> => {
  checkDay('from', query.from);
  checkDay('to', query.to);
  return dailySalesIn(live(db), {
    from: query.from,
    to: query.to,
    ...(query.productId === undefined ? {} : { productIds: [query.productId] }),
  });
};
