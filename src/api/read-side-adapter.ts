/**
 * The read side the API queries, over src/projections: the read models' query functions on the
 * read database (a replica when DATABASE_READ_URL is set), hot reads through the cache, the
 * engine's `waitFor` for consistency tokens and its status for `projectionStatus` and /ready.
 */
import type { Kysely } from 'kysely';
import { openNearCache, readAvailabilityCached, readProductCached } from '../projections/cache/index.js';
import type { NearCache, NearCacheOptions, ReadCache } from '../projections/cache/index.js';
import { holderText } from '../projections/engine/index.js';
import type { ProjectionWatch } from '../projections/engine/index.js';
import {
  CATALOG,
  FLASH_SALE,
  ORDERS,
  availabilityFromPayload,
  availabilityTopic,
  getOrder,
  listFlashSaleBoard,
  listOrdersOfCustomer,
  listProducts,
  orderTopic,
  productFromPayload,
  productTopic,
} from '../projections/read-models/index.js';
import { changeStream } from './change-stream.js';
import type { AvailabilityView, OrderDetail, ProductView, ProjectionStatus, ReadName, ReadSide } from './read-side.js';

/** Which projections each read depends on (what a consistency token waits for). */
export const PROJECTIONS_READ: { readonly [R in ReadName]: readonly string[] } = {
  products: [CATALOG],
  availability: [CATALOG],
  flashSaleBoard: [FLASH_SALE],
  orders: [ORDERS],
};

/** The order events that change its status (what `orderStatusChanged` reports). */
const STATUS_EVENTS: ReadonlySet<string> = new Set(['OrderPlaced', 'OrderConfirmed', 'OrderCancelled']);

/** The order if an event after `since` changed its status, else undefined. */
const statusChangedSince = (order: OrderDetail | undefined, since: bigint): OrderDetail | undefined =>
  order?.timeline.some((t) => STATUS_EVENTS.has(t.eventType) && t.position > since) === true ? order : undefined;

/**
 * A running projection whose oldest unapplied event is older than this is stalled (GET /ready
 * fails); so is one whose events have waited this long behind a held event-store horizon, and
 * the check's value then names the transaction holding it.
 */
export const DEFAULT_STALL_SECONDS = 60;

export interface ReadSideDeps {
  /** The read database (replica or primary). */
  readonly db: Kysely<unknown>;
  readonly cache: ReadCache;
  readonly watch: Pick<ProjectionWatch, 'waitFor'>;
  /**
   * The projections' status. `lagCountCap` bounds how many unapplied events are counted per
   * projection (readiness passes 1: it needs only the oldest one's age, not the count).
   */
  readonly status: (lagCountCap?: number) => Promise<readonly ProjectionStatus[]>;
  readonly stallSeconds?: number;
  /** Set when `db` is a read replica (DATABASE_READ_URL); `watch` must then read the replica. */
  readonly replica?: ReplicaDeps;
  /**
   * The near cache (in-process L1, fed by the cache's notices) in front of a Redis cache for
   * product and availability reads; false: none. Default: on, with its default TTL, when `cache`
   * is Redis (the in-process cache of embedded mode needs none).
   */
  readonly near?: NearCacheOptions | false;
}

/**
 * A replica replays the projections' commits after the primary has announced them through the
 * cache's pub/sub. A subscription re-reading on a change notice first waits until the replica has
 * the notice's batch; a resumed one first waits until it has the primary's checkpoint (a change
 * announced before it subscribed is then in the state it reads). Otherwise either would read the
 * state from before the change and drop the change as not newer. A wait longer than `waitMs` ends
 * the subscription with KEEL_ERR_PROJECTION_LAG_TIMEOUT rather than skip the change.
 */
export interface ReplicaDeps {
  readonly waitMs: number;
  /** The projection's checkpoint on the primary (a read of `keel_projections` there). */
  readonly primaryCheckpoint: (projection: string) => Promise<bigint>;
}

const byKey = async <K, V>(keys: readonly K[], read: (key: K) => Promise<V | undefined>): Promise<ReadonlyMap<K, V>> => {
  // One key (a `product(id)`, a product's availability): no set, array or Promise.all.
  if (keys.length === 1) {
    const [key] = keys as readonly [K];
    const value = await read(key);
    return value === undefined ? new Map() : new Map([[key, value]]);
  }
  const values = await Promise.all([...new Set(keys)].map(async (key) => [key, await read(key)] as const));
  return new Map(values.flatMap(([key, value]) => (value === undefined ? [] : [[key, value] as const])));
};

export const createReadSide = (deps: ReadSideDeps): ReadSide => {
  const { db, cache } = deps;
  const near: NearCache | undefined =
    deps.near === false || (deps.near === undefined && cache.kind !== 'redis')
      ? undefined
      : openNearCache(cache, { [productTopic('')]: productFromPayload, [availabilityTopic('')]: availabilityFromPayload }, deps.near ?? {});
  /** On a replica: resolves once it has replayed `position` of the orders projection. */
  const replayed = async (position: (replica: ReplicaDeps) => Promise<bigint> | bigint): Promise<void> => {
    const replica = deps.replica;
    if (replica !== undefined) await deps.watch.waitFor([ORDERS], await position(replica), { timeoutMs: replica.waitMs });
  };
  // A cache whose notices can stop (Redis) tells the change streams, which then read instead.
  const noticesLive =
    cache.noticesLive === undefined
      ? {}
      : { noticesLive: () => cache.noticesLive?.() === true, watchNotices: (listener: (live: boolean) => void) => cache.watchNotices?.(listener) ?? (() => undefined) };
  return {
    products: ({ first, after, filter }) => listProducts(db, { first, filter, ...(after === undefined ? {} : { after }) }),
    heldProduct: (id, freshness = {}) => near?.get<ProductView>(productTopic(id), freshness.minPosition),
    heldAvailability: (sku, freshness = {}) => near?.get<AvailabilityView>(availabilityTopic(sku), freshness.minPosition),
    productsById: (ids, freshness = {}) => byKey(ids, (id) => readProductCached(db, cache, id, freshness, near)),
    availability: (skus, freshness = {}) => byKey(skus, (sku) => readAvailabilityCached(db, cache, sku, freshness, near)),
    flashSaleBoard: ({ first, after }) => listFlashSaleBoard(db, { first, ...(after === undefined ? {} : { after }) }),
    ordersOfCustomer: (customerId, { first, after, status }) =>
      listOrdersOfCustomer(db, customerId, { first, ...(after === undefined ? {} : { after }), ...(status === undefined ? {} : { status }) }),
    ordersById: (ids) => byKey(ids, (id) => getOrder(db, id)),
    projectionStatus: () => deps.status(),
    waitFor: (position, reads, timeoutMs) =>
      deps.watch.waitFor([...new Set(reads.flatMap((read) => PROJECTIONS_READ[read]))], position, { timeoutMs }),
    orderChanges: (orderId, { after, signal }) =>
      changeStream(
        {
          subscribe: (listener) => cache.subscribe(orderTopic(orderId), listener),
          // Resuming, or reading through a gap in the notices: the current order only if its
          // status changed after `since`.
          current: async (since) => {
            await replayed((replica) => replica.primaryCheckpoint(ORDERS));
            return statusChangedSince(await getOrder(db, orderId), since);
          },
          // Only changes of the status; the row is re-read, PostgreSQL being the truth (on a
          // replica, once it has replayed the notice's batch). A batch that applied the order's
          // placement and a later event of it announces one notice past the placement: the order
          // is delivered only if its status changed after what the subscriber has (a race seen
          // in CI delivered PENDING to a subscriber resuming from the placement's token).
          fromNotice: async (notice, since) => {
            if (notice.payload.statusChanged === false) return undefined;
            await replayed(() => notice.position);
            return statusChangedSince(await getOrder(db, orderId), since);
          },
          positionOf: (order) => order.updatedPosition,
          ...noticesLive,
        },
        after,
        signal,
      ),
    availabilityChanges: (sku, { after, signal }) =>
      changeStream(
        {
          subscribe: (listener) => cache.subscribe(availabilityTopic(sku), listener),
          current: (since) => readAvailabilityCached(db, cache, sku, since < 0n ? {} : { minPosition: since }, near),
          fromNotice: async (notice) => availabilityFromPayload(notice.payload),
          positionOf: (view) => view.updatedPosition,
          ...noticesLive,
        },
        after,
        signal,
      ),
    async checkHealthy() {
      const limit = deps.stallSeconds ?? DEFAULT_STALL_SECONDS;
      const running = (await deps.status(1)).filter((s) => s.state === 'running');
      const stalled = running.filter((s) => s.lagSeconds > limit);
      // One holder for the whole cluster: every stalled projection reports the same one.
      const held = running.find((s) => s.stalledBy !== null && s.stalledBy.waitingSeconds > limit)?.stalledBy;
      const reasons: string[] = [];
      if (stalled.length > 0) reasons.push(`stalled: ${stalled.map((s) => `${s.name} (${Math.round(s.lagSeconds)} s behind)`).join(', ')}`);
      if (held) reasons.push(`event store horizon held by ${holderText(held)}`);
      if (reasons.length > 0) throw new Error(reasons.join('; '));
    },
  };
};
