/** The catalog's rows in and out of the batch handler: load the rows a batch touches, upsert the changed ones. */
import { asText, chunks } from '../support/sql.js';
import { emptyStock } from '../support/stock.js';
import type { StockCounters } from '../support/stock.js';
import type { CatalogDb, ProductStatus } from './tables.js';

/** A product as the fold sees it. */
export interface ProductState {
  readonly productId: string;
  readonly sku: string;
  readonly name: string;
  readonly price: number;
  readonly currency: string;
  readonly status: ProductStatus;
  readonly delistReason: string | null;
  readonly listedAt: string;
  readonly position: bigint;
}

export const loadProducts = async (db: CatalogDb, ids: readonly string[]): Promise<Map<string, ProductState>> => {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('products')
    .select(['product_id', 'sku', 'name', 'price', 'currency', 'status', 'delist_reason', 'listed_at'])
    .select(asText('updated_position').as('updated_position'))
    .where('product_id', 'in', ids)
    .execute();
  return new Map(
    rows.map((r) => [
      r.product_id,
      {
        productId: r.product_id,
        sku: r.sku,
        name: r.name,
        price: r.price,
        currency: r.currency,
        status: r.status,
        delistReason: r.delist_reason,
        listedAt: new Date(r.listed_at).toISOString(),
        position: BigInt(r.updated_position),
      },
    ]),
  );
};

export const loadStock = async (db: CatalogDb, skus: readonly string[]): Promise<Map<string, StockCounters>> => {
  if (skus.length === 0) return new Map();
  const rows = await db
    .selectFrom('availability')
    .select(['sku', 'product_id'])
    .select([asText('received').as('received'), asText('reserved').as('reserved'), asText('sold').as('sold')])
    .select(asText('updated_position').as('updated_position'))
    .where('sku', 'in', skus)
    .execute();
  return new Map(
    rows.map((r) => [
      r.sku,
      {
        ...emptyStock(r.sku),
        productId: r.product_id,
        received: Number(r.received),
        reserved: Number(r.reserved),
        sold: Number(r.sold),
        position: BigInt(r.updated_position),
      },
    ]),
  );
};

export const saveProducts = async (db: CatalogDb, rows: readonly ProductState[]): Promise<void> => {
  for (const chunk of chunks(rows)) {
    await db
      .insertInto('products')
      .values(
        chunk.map((p) => ({
          product_id: p.productId,
          sku: p.sku,
          name: p.name,
          price: p.price,
          currency: p.currency,
          status: p.status,
          delist_reason: p.delistReason,
          listed_at: p.listedAt,
          updated_position: p.position,
        })),
      )
      .onConflict((oc) =>
        oc.column('product_id').doUpdateSet((eb) => ({
          sku: eb.ref('excluded.sku'),
          name: eb.ref('excluded.name'),
          price: eb.ref('excluded.price'),
          currency: eb.ref('excluded.currency'),
          status: eb.ref('excluded.status'),
          delist_reason: eb.ref('excluded.delist_reason'),
          listed_at: eb.ref('excluded.listed_at'),
          updated_position: eb.ref('excluded.updated_position'),
        })),
      )
      .execute();
  }
};

export const saveStock = async (db: CatalogDb, rows: readonly StockCounters[]): Promise<void> => {
  for (const chunk of chunks(rows)) {
    await db
      .insertInto('availability')
      .values(
        chunk.map((s) => ({
          sku: s.sku,
          product_id: s.productId,
          received: s.received,
          reserved: s.reserved,
          sold: s.sold,
          updated_position: s.position,
        })),
      )
      .onConflict((oc) =>
        oc.column('sku').doUpdateSet((eb) => ({
          product_id: eb.ref('excluded.product_id'),
          received: eb.ref('excluded.received'),
          reserved: eb.ref('excluded.reserved'),
          sold: eb.ref('excluded.sold'),
          updated_position: eb.ref('excluded.updated_position'),
        })),
      )
      .execute();
  }
};
