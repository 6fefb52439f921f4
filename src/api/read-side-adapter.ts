/**
 * The read side the API queries, over src/projections: the read models' query functions on the
 * read database (a replica when DATABASE_READ_URL is set), hot reads through the cache, the
 * engine's `waitFor` for consistency tokens and its status for `projectionStatus` and /ready.
 */
import type { Kysely } from 'kysely';
import { readAvailabilityCached, readProductCached } from '../projections/cache/cached-readers.js';
import type { ReadCache } from '../projections/cache/read-cache.js';
import type { ProjectionWatch } from '../projections/engine/position-watch.js';
import { CATALOG, listProducts } from '../projections/read-models/catalog/queries.js';
import { availabilityFromPayload } from '../projections/read-models/catalog/views.js';
import { FLASH_SALE, getFlashSaleBoard } from '../projections/read-models/flash-sale/queries.js';
import { ORDERS, getOrder, listOrdersOfCustomer } from '../projections/read-models/orders/queries.js';
import { availabilityTopic, orderTopic } from '../projections/read-models/topics.js';
import { changeStream } from './change-stream.js';
import type { ProjectionStatus, ReadName, ReadSide } from './read-side.js';

/** Which projections each read depends on (what a consistency token waits for). */
export const PROJECTIONS_READ: { readonly [R in ReadName]: readonly string[] } = {
  products: [CATALOG],
  availability: [CATALOG],
  flashSaleBoard: [FLASH_SALE],
  orders: [ORDERS],
};

/** The order events that change its status (what `orderStatusChanged` reports). */
const STATUS_EVENTS: ReadonlySet<string> = new Set(['OrderPlaced', 'OrderConfirmed', 'OrderCancelled']);

/** A running projection whose oldest unapplied event is older than this is stalled (GET /ready fails). */
export const DEFAULT_STALL_SECONDS = 60;

export interface ReadSideDeps {
  /** The read database (replica or primary). */
  readonly db: Kysely<unknown>;
  readonly cache: ReadCache;
  readonly watch: Pick<ProjectionWatch, 'waitFor'>;
  readonly status: () => Promise<readonly ProjectionStatus[]>;
  readonly stallSeconds?: number;
}

const byKey = async <K, V>(keys: readonly K[], read: (key: K) => Promise<V | undefined>): Promise<ReadonlyMap<K, V>> => {
  const values = await Promise.all([...new Set(keys)].map(async (key) => [key, await read(key)] as const));
  return new Map(values.flatMap(([key, value]) => (value === undefined ? [] : [[key, value] as const])));
};

export const createReadSide = (deps: ReadSideDeps): ReadSide => {
  const { db, cache } = deps;
  return {
    products: ({ first, after, filter }) => listProducts(db, { first, filter, ...(after === undefined ? {} : { after }) }),
    productsById: (ids) => byKey(ids, (id) => readProductCached(db, cache, id)),
    availability: (skus) => byKey(skus, (sku) => readAvailabilityCached(db, cache, sku)),
    flashSaleBoard: async ({ first }) =>
      [...(await getFlashSaleBoard(db))].sort((a, b) => a.unitsLeft - b.unitsLeft || a.sku.localeCompare(b.sku)).slice(0, first),
    ordersOfCustomer: (customerId, { first, after }) => listOrdersOfCustomer(db, customerId, { first, ...(after === undefined ? {} : { after }) }),
    ordersById: (ids) => byKey(ids, (id) => getOrder(db, id)),
    projectionStatus: () => deps.status(),
    waitFor: (position, reads, timeoutMs) =>
      deps.watch.waitFor([...new Set(reads.flatMap((read) => PROJECTIONS_READ[read]))], position, { timeoutMs }),
    orderChanges: (orderId, { after, signal }) =>
      changeStream(
        {
          subscribe: (listener) => cache.subscribe(orderTopic(orderId), listener),
          // Resuming: the current order only if its status changed after the token.
          current: async () => {
            const order = await getOrder(db, orderId);
            const changed = order?.timeline.some((t) => STATUS_EVENTS.has(t.eventType) && t.position > (after ?? -1n));
            return changed === true ? order : undefined;
          },
          // Only changes of the status; the row is re-read, PostgreSQL being the truth.
          fromNotice: async (notice) => (notice.payload.statusChanged === false ? undefined : getOrder(db, orderId)),
          positionOf: (order) => order.updatedPosition,
        },
        after,
        signal,
      ),
    availabilityChanges: (sku, { after, signal }) =>
      changeStream(
        {
          subscribe: (listener) => cache.subscribe(availabilityTopic(sku), listener),
          current: () => readAvailabilityCached(db, cache, sku, after === undefined ? {} : { minPosition: after }),
          fromNotice: async (notice) => availabilityFromPayload(notice.payload),
          positionOf: (view) => view.updatedPosition,
        },
        after,
        signal,
      ),
    async checkHealthy() {
      const limit = deps.stallSeconds ?? DEFAULT_STALL_SECONDS;
      const stalled = (await deps.status()).filter((s) => s.state === 'running' && s.lagSeconds > limit);
      if (stalled.length > 0) {
        throw new Error(`stalled: ${stalled.map((s) => `${s.name} (${Math.round(s.lagSeconds)} s behind)`).join(', ')}`);
      }
    },
  };
};
