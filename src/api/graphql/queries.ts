/**
 * Query resolvers, against the read side only (read models and caches, never the event store).
 * Catalog reads are public; orders need a token (a customer sees only their own, an admin all);
 * projection status is for admins. Per-parent fields go through mercurius loaders (batched).
 */
import type { IResolvers, MercuriusContext, MercuriusLoaders } from 'mercurius';
import { DomainError, ValidationError } from '../../platform/errors.js';
import { requireRole, requireUser } from '../auth.js';
import type { Freshness, OrderDetail, OrderStatus, ProductFilter, ReadName, ReadSide } from '../read-side.js';
import type { ReadAccess } from './read-access.js';
import { pageSize } from './read-access.js';
import type { OrderObject } from './views.js';
import { detailFields, toAvailability, toConnection, toFlashSaleEntry, toHeldAvailability, toHeldProduct, toOrder, toOrderDetail, toProduct, toProjectionStatus } from './views.js';

interface Token {
  readonly consistencyToken?: string | null;
}
interface PageArgs extends Token {
  readonly first: number;
  readonly after?: string | null;
}
interface ProductFilterInput {
  readonly status?: string | null;
  readonly nameContains?: string | null;
  readonly minPrice?: number | null;
  readonly maxPrice?: number | null;
  readonly inStock?: boolean | null;
}

const filterOf = (input: ProductFilterInput | null | undefined): ProductFilter => {
  const { status, nameContains, minPrice, maxPrice, inStock } = input ?? {};
  if (typeof nameContains === 'string' && nameContains.length > 200) throw new ValidationError('filter.nameContains', 'must be at most 200 characters');
  return {
    ...(status === 'LISTED' ? { status: 'listed' } : status === 'DELISTED' ? { status: 'delisted' } : {}),
    ...(typeof nameContains === 'string' ? { nameContains } : {}),
    ...(typeof minPrice === 'number' ? { minPrice } : {}),
    ...(typeof maxPrice === 'number' ? { maxPrice } : {}),
    ...(typeof inStock === 'boolean' ? { inStock } : {}),
  };
};

/**
 * What a token waits for: every projection the field or its nested fields read. An order's lines
 * resolve their product from the catalog and a board entry its product, so those wait for the
 * catalog too (a read with a token once returned `lines { product: null }` while the catalog lagged).
 */
const ORDER_READS: readonly ReadName[] = ['orders', 'products'];
const BOARD_READS: readonly ReadName[] = ['flashSaleBoard', 'products'];

const after = (value: string | null | undefined) => (typeof value === 'string' ? { after: value } : {});
const ORDER_STATUS: Readonly<Record<string, OrderStatus>> = { PENDING: 'pending', CONFIRMED: 'confirmed', CANCELLED: 'cancelled' };
/** The GraphQL OrderStatus (validated by the schema) as the read model's filter. */
const statusOf = (value: string | null | undefined): { readonly status?: OrderStatus } => {
  const status = typeof value === 'string' ? ORDER_STATUS[value] : undefined;
  return status === undefined ? {} : { status };
};
const unique = (values: readonly string[]): string[] => [...new Set(values)];

/**
 * The consistency token each request waited for. Cached reads (products and availability, nested
 * fields included) then bypass cache entries older than it: the projector announces a commit
 * before it writes the cache, so right after the wait the cache may still hold the state before.
 */
const waited = new WeakMap<object, bigint>();
const consistent = async (reads: ReadAccess, ctx: MercuriusContext, token: string | null | undefined, names: readonly ReadName[]): Promise<void> => {
  const position = await reads.consistent(token, names);
  const before = waited.get(ctx.keel);
  if (position !== undefined && (before === undefined || position > before)) waited.set(ctx.keel, position);
};
const ANY_FRESHNESS: Freshness = Object.freeze({});
const freshness = (ctx: MercuriusContext): Freshness => {
  const position = waited.get(ctx.keel);
  return position === undefined ? ANY_FRESHNESS : { minPosition: position };
};

/** The caller may see `order`: its customer or an admin. */
/**
 * Whether the caller may see the order: an admin, or the customer who placed it. Another
 * customer's order is answered exactly like one that does not exist, so ids cannot be probed.
 */
const visibleTo = (ctx: MercuriusContext, order: OrderDetail): boolean => {
  const user = requireUser(ctx.keel.auth);
  return user.roles.has('admin') || order.customerId === user.subject;
};

/** Order details fetched once per request, whichever of an order's fields asks first. */
const detailMemo = new WeakMap<object, Map<string, Promise<OrderDetail | undefined>>>();
const orderDetails = (side: ReadSide, ctx: MercuriusContext, orderIds: readonly string[]) => {
  let memo = detailMemo.get(ctx.keel);
  if (memo === undefined) {
    memo = new Map();
    detailMemo.set(ctx.keel, memo);
  }
  const missing = unique(orderIds).filter((id) => !memo.has(id));
  if (missing.length > 0) {
    const fetched = side.ordersById(missing);
    for (const id of missing) memo.set(id, fetched.then((found) => found.get(id)));
  }
  const known = memo;
  return Promise.all(orderIds.map((id) => known.get(id)));
};

export const queryResolvers = (reads: ReadAccess): IResolvers => ({
  Query: {
    products: async (_root: unknown, args: PageArgs & { readonly filter?: ProductFilterInput | null }, ctx: MercuriusContext) => {
      const first = pageSize(args.first);
      await consistent(reads, ctx, args.consistencyToken, ['products']);
      const page = await reads.side().products({ first, ...after(args.after), filter: filterOf(args.filter) });
      return toConnection(page, toProduct);
    },
    product: (_root: unknown, args: Token & { readonly id: string }, ctx: MercuriusContext) => {
      // Without a token, a product the near cache holds is answered synchronously (GraphQL then
      // resolves its fields without a promise); what productsById would answer from it.
      if (args.consistencyToken === null || args.consistencyToken === undefined) {
        const held = reads.side().heldProduct?.(args.id, freshness(ctx));
        if (held !== undefined) return toHeldProduct(held);
      }
      return (async () => {
        await consistent(reads, ctx, args.consistencyToken, ['products']);
        const product = (await reads.side().productsById([args.id], freshness(ctx))).get(args.id);
        return product === undefined ? null : toProduct(product);
      })();
    },
    availability: async (_root: unknown, args: Token & { readonly sku: string }, ctx: MercuriusContext) => {
      await consistent(reads, ctx, args.consistencyToken, ['availability']);
      const found = (await reads.side().availability([args.sku], freshness(ctx))).get(args.sku);
      return found === undefined ? null : toAvailability(found);
    },
    flashSaleBoard: async (_root: unknown, args: Token & { readonly first: number }, ctx: MercuriusContext) => {
      const first = pageSize(args.first);
      await consistent(reads, ctx, args.consistencyToken, BOARD_READS);
      return (await reads.side().flashSaleBoard({ first })).items.map(toFlashSaleEntry);
    },
    myOrders: async (_root: unknown, args: PageArgs & { readonly status?: string | null }, ctx: MercuriusContext) => {
      const user = requireUser(ctx.keel.auth);
      const first = pageSize(args.first);
      await consistent(reads, ctx, args.consistencyToken, ORDER_READS);
      return toConnection(await reads.side().ordersOfCustomer(user.subject, { first, ...after(args.after), ...statusOf(args.status) }), toOrder);
    },
    order: async (_root: unknown, args: Token & { readonly id: string }, ctx: MercuriusContext) => {
      requireUser(ctx.keel.auth);
      await consistent(reads, ctx, args.consistencyToken, ORDER_READS);
      const [order] = await orderDetails(reads.side(), ctx, [args.id]);
      if (order === undefined || !visibleTo(ctx, order)) return null;
      return toOrderDetail(order);
    },
    projectionStatus: async (_root: unknown, _args: unknown, ctx: MercuriusContext) => {
      requireRole(ctx.keel.auth, 'projectionStatus', 'admin');
      return (await reads.side().projectionStatus()).map(toProjectionStatus);
    },
  },
  Product: {
    // A plain resolver, not a loader: each SKU is its own cache read anyway (a loader's batch is
    // read key by key), and a loader costs a batch per request and a serialized key per call.
    availability: (product: { readonly sku: string }, _args: unknown, ctx: MercuriusContext) => {
      const held = reads.side().heldAvailability?.(product.sku, freshness(ctx));
      if (held !== undefined) return toHeldAvailability(held);
      return (async () => {
        const found = (await reads.side().availability([product.sku], freshness(ctx))).get(product.sku);
        return found === undefined ? null : toAvailability(found);
      })();
    },
  },
});

type Queries<T> = ReadonlyArray<{ readonly obj: T }>;

/** One loader per detail-only field of Order; they share one fetch per request. */
const orderDetailLoader =
  (reads: ReadAccess, field: keyof ReturnType<typeof detailFields>) =>
  async (queries: Queries<OrderObject>, ctx: MercuriusContext) => {
    const pending = queries.filter((q) => q.obj.detail === undefined).map((q) => q.obj.id);
    const fetched = pending.length === 0 ? [] : await orderDetails(reads.side(), ctx, pending);
    const byId = new Map(pending.map((id, i) => [id, fetched[i]]));
    return queries.map((q) => {
      const detail = q.obj.detail ?? (() => {
        const found = byId.get(q.obj.id);
        return found === undefined ? undefined : detailFields(found);
      })();
      return detail === undefined ? null : detail[field];
    });
  };

export const queryLoaders = (reads: ReadAccess): MercuriusLoaders => {
  const productOfSku = async (queries: Queries<{ readonly sku: string }>, ctx: MercuriusContext) => {
    const side = reads.side();
    const stock = await side.availability(unique(queries.map((q) => q.obj.sku)), freshness(ctx));
    const ids = unique([...stock.values()].flatMap((a) => (a.productId === null ? [] : [a.productId])));
    const products = await side.productsById(ids, freshness(ctx));
    return queries.map((q) => {
      const productId = stock.get(q.obj.sku)?.productId;
      const product = productId === null || productId === undefined ? undefined : products.get(productId);
      return product === undefined ? null : toProduct(product);
    });
  };
  return {
    OrderLine: { product: productOfSku },
    FlashSaleEntry: {
      product: async (queries: Queries<{ readonly productId: string | null }>, ctx: MercuriusContext) => {
        const ids = unique(queries.flatMap((q) => (q.obj.productId === null ? [] : [q.obj.productId])));
        const found = await reads.side().productsById(ids, freshness(ctx));
        return queries.map((q) => {
          const product = q.obj.productId === null ? undefined : found.get(q.obj.productId);
          return product === undefined ? null : toProduct(product);
        });
      },
    },
    Order: {
      lines: orderDetailLoader(reads, 'lines'),
      timeline: orderDetailLoader(reads, 'timeline'),
      confirmedAt: orderDetailLoader(reads, 'confirmedAt'),
      cancelledAt: orderDetailLoader(reads, 'cancelledAt'),
      cancelReason: orderDetailLoader(reads, 'cancelReason'),
    },
  };
};

/** For subscriptions: the order, if the caller may watch it. */
export const orderVisibleTo = async (reads: ReadAccess, orderId: string, ctx: MercuriusContext): Promise<OrderDetail> => {
  requireUser(ctx.keel.auth);
  const order = (await reads.side().ordersById([orderId])).get(orderId);
  if (order === undefined || !visibleTo(ctx, order)) throw new DomainError('KEEL_ERR_ORDER_NOT_FOUND', `No order "${orderId}" exists.`, { orderId });
  return order;
};
