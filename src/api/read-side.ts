/**
 * What the API's query and subscription resolvers need from the read side: the read models'
 * queries (PostgreSQL), the caches (Redis or in-process), and the projector engine's progress. The
 * API depends on this interface only; `createReadSide` (read-side-adapter.ts) implements it over
 * src/projections. It never touches the event store: the read path reads projections only.
 *
 * The views are the read models' own (positions are bigints: `updatedPosition` is the stamp of
 * the batch that last changed a row). Lists page with opaque cursors the read models make and
 * check (a bad cursor is a `ValidationError` naming `after`).
 */
import type { ProjectionStatus } from '../projections/engine/index.js';
import type {
  AvailabilityView,
  FlashSaleBoardRow,
  OrderDetail,
  OrderStatus,
  OrderSummary,
  Page,
  ProductFilter,
  ProductView,
} from '../projections/read-models/index.js';

export type { AvailabilityView, FlashSaleBoardRow, OrderDetail, OrderStatus, OrderSummary, Page, ProductFilter, ProductView, ProjectionStatus };

/** For cached reads: a consistency token's position the caller waited for. */
export interface Freshness {
  /** A cache entry stamped below this is bypassed (the cache is written after the commit is announced). */
  readonly minPosition?: bigint;
}

export interface PageArgs {
  /** 1 to 100 (checked by the API and again by the read model). */
  readonly first: number;
  readonly after?: string;
}

/** The reads a consistency token can wait for; the read side maps each to its projections. */
export type ReadName = 'products' | 'availability' | 'flashSaleBoard' | 'orders';

export interface ChangeStreamOptions {
  /** Resume: deliver every state stamped after this position (the current state first, if newer). */
  readonly after?: bigint;
  readonly signal: AbortSignal;
}

export interface ReadSide {
  products(args: PageArgs & { readonly filter: ProductFilter }): Promise<Page<ProductView>>;
  /** Batched (the loader behind `OrderLine.product`, `FlashSaleEntry.product`); missing ids are absent. */
  productsById(productIds: readonly string[], freshness?: Freshness): Promise<ReadonlyMap<string, ProductView>>;
  /** Batched (the loader behind `OrderLine.product`); also `Product.availability` and `availability(sku)`. Untracked SKUs are absent. */
  availability(skus: readonly string[], freshness?: Freshness): Promise<ReadonlyMap<string, AvailabilityView>>;
  /**
   * Synchronous, optional: the product or availability if this process's near cache holds it
   * fresh and stamped at least `freshness.minPosition` (what `productsById`/`availability` would
   * answer from it); undefined: ask those.
   */
  heldProduct?(productId: string, freshness?: Freshness): ProductView | undefined;
  heldAvailability?(sku: string, freshness?: Freshness): AvailabilityView | undefined;
  /** The flash-sale board, fewest units left first, then by SKU (ordered and limited in SQL). */
  flashSaleBoard(args: PageArgs): Promise<Page<FlashSaleBoardRow>>;
  /** A customer's orders, newest first; `status` keeps only the orders in that status. */
  ordersOfCustomer(customerId: string, args: PageArgs & { readonly status?: OrderStatus }): Promise<Page<OrderSummary>>;
  /** Batched: orders with their lines and timeline (the loader behind `Order.lines`, `Order.timeline`). */
  ordersById(orderIds: readonly string[]): Promise<ReadonlyMap<string, OrderDetail>>;
  projectionStatus(): Promise<readonly ProjectionStatus[]>;
  /**
   * Resolves once every projection behind `reads` has a checkpoint >= `position`; after
   * `timeoutMs` rejects with KEEL_ERR_PROJECTION_LAG_TIMEOUT naming the projection that lags
   * (the engine's `ProjectionWatch.waitFor` does exactly this).
   */
  waitFor(position: bigint, reads: readonly ReadName[], timeoutMs: number): Promise<void>;
  /**
   * Order `orderId` after each committed change (topic `order:<orderId>`, fed by the projections'
   * pub/sub, so changes made through any process arrive). Ends when `signal` aborts.
   */
  orderChanges(orderId: string, options: ChangeStreamOptions): AsyncIterable<OrderDetail>;
  /** Availability of `sku` after each committed change (topic `availability:<sku>`). */
  availabilityChanges(sku: string, options: ChangeStreamOptions): AsyncIterable<AvailabilityView>;
  /**
   * For GET /ready: rejects when a projection is stalled; when a transaction holds the event
   * store's horizon back, the message names it (pid, database, application, state, since; or the
   * prepared transaction's gid).
   */
  checkHealthy(): Promise<void>;
}
