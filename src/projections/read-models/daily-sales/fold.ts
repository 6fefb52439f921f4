/**
 * Daily sales' pure fold: what a batch does to the SKU → product map and the open order lines, and
 * the sales it finds. A sale is a `StockCommitted` (see apply.ts), priced at the order line's amount
 * and dated by the UTC day of `committedAt`. A commit at or below its line's `sold_position` was
 * counted already; a line placed in an earlier batch is not placed again.
 */
import type { Positioned } from '../support/events.js';
import { utcDay } from '../support/sql.js';

export const DAILY_SALES_EVENT_TYPES = ['SkuTracked', 'ProductListed', 'OrderPlaced', 'OrderCancelled', 'StockCommitted'] as const;
export type DailySalesEventType = (typeof DAILY_SALES_EVENT_TYPES)[number];

export interface Line {
  readonly orderId: string;
  readonly sku: string;
  readonly quantity: number;
  readonly amount: number;
  readonly currency: string;
  readonly soldPosition: bigint | null;
}

export interface Sale {
  readonly productId: string;
  readonly day: string;
  readonly currency: string;
  readonly units: number;
  readonly revenue: number;
  readonly orders: number;
  readonly at: string;
  readonly position: bigint;
}

export const lineKey = (orderId: string, sku: string): string => JSON.stringify([orderId, sku]);

export const skuOf = ({ event }: Positioned<DailySalesEventType>): string[] =>
  event.type === 'SkuTracked' || event.type === 'ProductListed' || event.type === 'StockCommitted' ? [event.data.sku] : [];
export const orderOf = ({ event }: Positioned<DailySalesEventType>): string[] =>
  event.type === 'OrderPlaced' || event.type === 'OrderCancelled' || event.type === 'StockCommitted' ? [event.data.orderId] : [];

/** The rows a batch touches, as stored: the product of each SKU, and order lines by `lineKey`. */
export interface DailySalesRows {
  readonly skus: ReadonlyMap<string, string>;
  readonly lines: ReadonlyMap<string, Line>;
}

export interface DailySalesChanges {
  /** SKUs whose product the batch learnt. */
  readonly skuProducts: readonly { readonly sku: string; readonly productId: string }[];
  /** Changed lines, in the order they first changed. */
  readonly lines: readonly Line[];
  /** Orders cancelled in the batch: their unsold lines are deleted. */
  readonly cancelledOrders: readonly string[];
  /** Sales of the batch summed per (product, day, currency), in the order first seen. */
  readonly sales: readonly Sale[];
}

interface Folding {
  readonly skus: Map<string, string>;
  readonly newSkus: Set<string>;
  readonly lines: Map<string, Line>;
  readonly changedLines: Set<string>;
  readonly cancelledOrders: Set<string>;
  readonly sales: Sale[];
}

/** Folds a batch onto the rows it touches. Throws on a commit whose line or SKU is unknown. */
export const foldDailySales = (rows: DailySalesRows, events: readonly Positioned<DailySalesEventType>[]): DailySalesChanges => {
  const state: Folding = {
    skus: new Map(rows.skus),
    newSkus: new Set(),
    lines: new Map(rows.lines),
    changedLines: new Set(),
    cancelledOrders: new Set(),
    sales: [],
  };
  for (const e of events) foldEvent(state, e);
  return {
    skuProducts: [...state.newSkus].flatMap((sku) => {
      const productId = state.skus.get(sku);
      return productId === undefined ? [] : [{ sku, productId }];
    }),
    lines: [...state.changedLines].flatMap((key) => state.lines.get(key) ?? []),
    cancelledOrders: [...state.cancelledOrders],
    sales: sumSales(state.sales),
  };
};

const foldEvent = (state: Folding, e: Positioned<DailySalesEventType>): void => {
  const { event, position } = e;
  switch (event.type) {
    case 'SkuTracked':
    case 'ProductListed':
      if (!state.skus.has(event.data.sku)) {
        state.skus.set(event.data.sku, event.data.productId);
        state.newSkus.add(event.data.sku);
      }
      return;
    case 'OrderPlaced': {
      const { orderId, currency } = event.data;
      for (const { sku, quantity, unitPrice } of event.data.lines) {
        const key = lineKey(orderId, sku);
        const known = state.lines.get(key);
        if (known !== undefined && !state.changedLines.has(key)) continue; // placed in an earlier batch
        const line = { orderId, sku, quantity, amount: quantity * unitPrice, currency, soldPosition: null };
        // A SKU twice in one order (possible in version-1 events) adds up into one line.
        const merged = known === undefined ? line : { ...line, quantity: known.quantity + quantity, amount: known.amount + line.amount };
        state.lines.set(key, merged);
        state.changedLines.add(key);
      }
      return;
    }
    case 'OrderCancelled':
      state.cancelledOrders.add(event.data.orderId);
      return;
    case 'StockCommitted': {
      const { orderId, sku, quantity, committedAt } = event.data;
      const key = lineKey(orderId, sku);
      const line = state.lines.get(key);
      if (line === undefined) throw new Error(`daily_sales: stock of ${sku} committed for order ${orderId}, whose line is unknown`);
      if (line.soldPosition !== null && line.soldPosition >= position) return; // counted already
      const productId = state.skus.get(sku);
      if (productId === undefined) throw new Error(`daily_sales: stock of ${sku} committed, but the SKU's product is unknown`);
      const revenue = quantity === line.quantity ? line.amount : Math.round((line.amount * quantity) / line.quantity);
      const day = utcDay(committedAt);
      const at = new Date(committedAt).toISOString();
      state.sales.push({ productId, day, currency: line.currency, units: quantity, revenue, orders: 1, at, position });
      state.lines.set(key, { ...line, soldPosition: position });
      state.changedLines.add(key);
      return;
    }
  }
};

/** Sales of the batch summed per (product, day, currency), in the order first seen. */
const sumSales = (sales: readonly Sale[]): Sale[] => {
  const sums = new Map<string, Sale>();
  for (const sale of sales) {
    const key = JSON.stringify([sale.productId, sale.day, sale.currency]);
    const sum = sums.get(key);
    sums.set(
      key,
      sum === undefined
        ? sale
        : {
            ...sum,
            units: sum.units + sale.units,
            revenue: sum.revenue + sale.revenue,
            orders: sum.orders + sale.orders,
            at: sale.at > sum.at ? sale.at : sum.at,
            position: sale.position,
          },
    );
  }
  return [...sums.values()];
};
