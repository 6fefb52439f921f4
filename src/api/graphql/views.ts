/** Read-model views → GraphQL objects (enum values upper case, positions as consistency tokens). */
import { encodeConsistencyToken } from '../consistency-token.js';
import type {
  AvailabilityView,
  FlashSaleBoardRow,
  OrderDetail,
  OrderSummary,
  Page,
  ProductView,
  ProjectionStatus,
} from '../read-side.js';

const upper = (value: string): string => value.toUpperCase();

export const toProduct = (p: ProductView) => ({
  id: p.productId,
  sku: p.sku,
  name: p.name,
  price: p.price,
  currency: p.currency,
  status: upper(p.status),
  delistReason: p.delistReason,
  listedAt: p.listedAt,
  available: p.available,
  consistencyToken: encodeConsistencyToken(p.updatedPosition),
});

export const toAvailability = (a: AvailabilityView) => ({
  sku: a.sku,
  productId: a.productId,
  received: a.received,
  reserved: a.reserved,
  sold: a.sold,
  available: a.available,
  consistencyToken: encodeConsistencyToken(a.updatedPosition),
});

/**
 * The GraphQL object of a product or availability the near cache holds, made once per held entry:
 * held entries are frozen and replaced, never changed, so a hot read allocates nothing and encodes
 * no token.
 */
const madeOnce = <V extends object, O extends object>(toObject: (view: V) => O): ((view: V) => O) => {
  const made = new WeakMap<V, O>();
  return (view) => {
    let object = made.get(view);
    if (object === undefined) {
      object = Object.freeze(toObject(view));
      made.set(view, object);
    }
    return object;
  };
};
export const toHeldProduct = madeOnce(toProduct);
export const toHeldAvailability = madeOnce(toAvailability);

export const toFlashSaleEntry = (row: FlashSaleBoardRow) => ({
  sku: row.sku,
  productId: row.productId,
  unitsLeft: row.unitsLeft,
  reserved: row.reserved,
  sold: row.sold,
  received: row.received,
  lastSaleAt: row.lastSale?.at ?? null,
  consistencyToken: encodeConsistencyToken(row.updatedPosition),
});

const toLines = (o: OrderDetail) =>
  o.lines.map((line) => ({
    sku: line.sku,
    quantity: line.quantity,
    unitPrice: line.unitPrice,
    lineTotal: line.lineTotal,
    stockStatus: upper(line.stockStatus),
  }));

const toTimeline = (o: OrderDetail) =>
  o.timeline.map((t) => ({
    type: t.eventType,
    at: t.occurredAt,
    consistencyToken: encodeConsistencyToken(t.position),
    detail: JSON.stringify(t.detail),
  }));

/** An order from a summary (a page of myOrders): lines and timeline come from a loader. */
export const toOrder = (o: OrderSummary) => ({
  id: o.orderId,
  customerId: o.customerId,
  status: upper(o.status),
  paymentStatus: upper(o.paymentStatus),
  currency: o.currency,
  total: o.total,
  lineCount: o.lineCount,
  placedAt: o.placedAt,
  consistencyToken: encodeConsistencyToken(o.updatedPosition),
});

export type OrderObject = ReturnType<typeof toOrder> & { readonly detail?: ReturnType<typeof detailOf> };

const detailOf = (o: OrderDetail) => ({
  confirmedAt: o.confirmedAt,
  cancelledAt: o.cancelledAt,
  cancelReason: o.cancelReason,
  lines: toLines(o),
  timeline: toTimeline(o),
});

/** An order with everything (order(id), subscriptions): its loaders answer without another read. */
export const toOrderDetail = (o: OrderDetail): OrderObject => {
  const detail = detailOf(o);
  return { ...toOrder(o), ...detail, detail };
};

/** The fields only an OrderDetail has, for an order that came from a summary. */
export const detailFields = (o: OrderDetail) => detailOf(o);

export const toProjectionStatus = (s: ProjectionStatus) => ({
  name: s.name,
  description: s.description,
  version: s.version,
  codeVersion: s.codeVersion,
  state: s.state,
  checkpoint: s.position.toString(),
  head: s.head.toString(),
  lagEvents: s.lagEvents,
  lagEventsCapped: s.lagEventsCapped,
  lagSeconds: s.lagSeconds,
  parkedEvents: s.parked,
  active: s.active,
  stalledBy:
    s.stalledBy === null
      ? null
      : {
          xid: s.stalledBy.xid,
          pid: s.stalledBy.pid,
          database: s.stalledBy.database,
          application: s.stalledBy.application,
          state: s.stalledBy.state,
          since: s.stalledBy.since?.toISOString() ?? null,
          ageSeconds: s.stalledBy.ageSeconds,
          preparedGid: s.stalledBy.preparedGid,
          waitingSeconds: s.stalledBy.waitingSeconds,
        },
});

/**
 * A Relay connection: each edge carries its item's cursor (pass it as `after` to continue right
 * after that edge). Paging is forward only, so there is no `hasPreviousPage`.
 */
export const toConnection = <T, G>(page: Page<T>, map: (node: T) => G) => ({
  edges: page.items.map((item, i) => ({ cursor: page.cursors[i], node: map(item) })),
  pageInfo: { hasNextPage: page.hasNextPage, startCursor: page.cursors[0] ?? null, endCursor: page.endCursor },
});
