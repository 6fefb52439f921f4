/**
 * The flash-sale board's rows in and out of a batch: load the SKUs the batch touches (one query),
 * save the changed ones (one multi-row upsert).
 */
import type { Insertable, Kysely } from 'kysely';
import { distinct } from '../support/events.js';
import type { Positioned } from '../support/events.js';
import { asText } from '../support/sql.js';
import type { StockCounters } from '../support/stock.js';
import { upsertRows } from '../support/upsert.js';
import type { FlashSaleChanges, FlashSaleEventType, FlashSaleRows } from './fold.js';
import type { BoardTable, FlashSaleTables } from './tables.js';

export const loadFlashSale = async (
  trx: Kysely<unknown>,
  schema: string,
  events: readonly Positioned<FlashSaleEventType>[],
): Promise<FlashSaleRows> => {
  const skus = distinct(events.map((e) => e.event.data.sku));
  if (skus.length === 0) return new Map();
  const rows = await trx
    .withSchema(schema)
    .withTables<FlashSaleTables>()
    .selectFrom('board')
    .select(['sku', 'product_id', 'last_sale_at', 'last_sale_order_id', 'last_sale_quantity'])
    .select([asText('received').as('received'), asText('reserved').as('reserved'), asText('sold').as('sold')])
    .select(asText('updated_position').as('updated_position'))
    .where('sku', 'in', skus)
    .execute();
  return new Map(
    rows.map((r) => [
      r.sku,
      {
        sku: r.sku,
        productId: r.product_id,
        received: Number(r.received),
        reserved: Number(r.reserved),
        sold: Number(r.sold),
        lastSale:
          r.last_sale_at === null || r.last_sale_order_id === null || r.last_sale_quantity === null
            ? null
            : { at: new Date(r.last_sale_at).toISOString(), orderId: r.last_sale_order_id, quantity: r.last_sale_quantity },
        position: BigInt(r.updated_position),
      },
    ]),
  );
};

const boardRow = (s: StockCounters): Insertable<BoardTable> => ({
  sku: s.sku,
  product_id: s.productId,
  received: s.received,
  reserved: s.reserved,
  sold: s.sold,
  last_sale_at: s.lastSale?.at ?? null,
  last_sale_order_id: s.lastSale?.orderId ?? null,
  last_sale_quantity: s.lastSale?.quantity ?? null,
  updated_position: s.position,
});

export const saveFlashSale = async (db: Kysely<unknown>, schema: string, changes: FlashSaleChanges): Promise<void> => {
  await upsertRows(db, schema, 'board', changes.board.map(boardRow), {
    key: ['sku'],
    columns: ['product_id', 'received', 'reserved', 'sold', 'last_sale_at', 'last_sale_order_id', 'last_sale_quantity', 'updated_position'],
  });
};
