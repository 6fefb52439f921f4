/** The flash-sale board's batch handler: load the SKUs of the batch, fold, upsert, announce. */
import type { Transaction } from 'kysely';
import type { RecordedEvent } from '../../../eventstore/port.js';
import type { ApplyContext, ProjectionChange } from '../../projection.js';
import { flashSaleTopic } from '../topics.js';
import { decodeBatch, distinct, lastPosition } from '../support/events.js';
import { asText, chunks } from '../support/sql.js';
import { emptyStock, foldStock, STOCK_EVENT_TYPES } from '../support/stock.js';
import type { StockCounters } from '../support/stock.js';
import { boardRowToPayload, getBoardIn } from './queries.js';
import type { FlashSaleDb, FlashSaleTables } from './tables.js';

const load = async (db: FlashSaleDb, skus: readonly string[]): Promise<Map<string, StockCounters>> => {
  if (skus.length === 0) return new Map();
  const rows = await db
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

const save = async (db: FlashSaleDb, rows: readonly StockCounters[]): Promise<void> => {
  for (const chunk of chunks(rows)) {
    await db
      .insertInto('board')
      .values(
        chunk.map((s) => ({
          sku: s.sku,
          product_id: s.productId,
          received: s.received,
          reserved: s.reserved,
          sold: s.sold,
          last_sale_at: s.lastSale?.at ?? null,
          last_sale_order_id: s.lastSale?.orderId ?? null,
          last_sale_quantity: s.lastSale?.quantity ?? null,
          updated_position: s.position,
        })),
      )
      .onConflict((oc) =>
        oc.column('sku').doUpdateSet((eb) => ({
          product_id: eb.ref('excluded.product_id'),
          received: eb.ref('excluded.received'),
          reserved: eb.ref('excluded.reserved'),
          sold: eb.ref('excluded.sold'),
          last_sale_at: eb.ref('excluded.last_sale_at'),
          last_sale_order_id: eb.ref('excluded.last_sale_order_id'),
          last_sale_quantity: eb.ref('excluded.last_sale_quantity'),
          updated_position: eb.ref('excluded.updated_position'),
        })),
      )
      .execute();
  }
};

export const applyFlashSale = async (
  trx: Transaction<unknown>,
  events: readonly RecordedEvent[],
  context: ApplyContext,
): Promise<readonly ProjectionChange[]> => {
  const db = trx.withSchema(context.schema).withTables<FlashSaleTables>();
  const decoded = decodeBatch(STOCK_EVENT_TYPES, events);
  const board = await load(db, distinct(decoded.map((e) => e.event.data.sku)));
  const changed = new Set<string>();
  for (const e of decoded) {
    const { sku } = e.event.data;
    const before = board.get(sku) ?? emptyStock(sku);
    const after = foldStock(before, e);
    if (after !== before) {
      board.set(sku, after);
      changed.add(sku);
    }
  }
  await save(db, [...changed].flatMap((sku) => board.get(sku) ?? []));
  if (context.rebuilding || changed.size === 0) return [];
  const position = lastPosition(events);
  const rows = await getBoardIn(db, [...changed]);
  return rows.map((row) => ({ topic: flashSaleTopic(row.sku), position, payload: boardRowToPayload(row) }));
};
