/**
 * The catalog's batch handler: load the rows the batch touches, fold the events onto them, save the
 * changed rows (store.ts), then read back the payloads to announce: `product:<productId>` and
 * `availability:<sku>` (a stock change also announces the product of the SKU).
 */
import type { Transaction } from 'kysely';
import type { RecordedEvent } from '../../../eventstore/port.js';
import type { ApplyContext, ProjectionChange } from '../../projection.js';
import { availabilityTopic, productTopic } from '../topics.js';
import { decodeBatch, distinct, lastPosition } from '../support/events.js';
import { CATALOG_EVENT_TYPES, foldCatalog } from './fold.js';
import { getAvailabilityIn, getProductsIn } from './queries.js';
import { loadCatalog, saveCatalog } from './store.js';
import type { CatalogTables } from './tables.js';
import { availabilityToPayload, productToPayload } from './views.js';

export const applyCatalog = async (
  trx: Transaction<unknown>,
  events: readonly RecordedEvent[],
  context: ApplyContext,
): Promise<readonly ProjectionChange[]> => {
  const decoded = decodeBatch(CATALOG_EVENT_TYPES, events);
  const changes = foldCatalog(await loadCatalog(trx, context.schema, decoded), decoded);
  await saveCatalog(trx, context.schema, changes);
  if (context.rebuilding || (changes.products.length === 0 && changes.stock.length === 0)) return [];

  const db = trx.withSchema(context.schema).withTables<CatalogTables>();
  const position = lastPosition(events);
  const changedSkus = changes.stock.map((s) => s.sku);
  const availability = await getAvailabilityIn(db, changedSkus);
  const ofSkus = changedSkus.length === 0
    ? []
    : await db.selectFrom('products').select('product_id').where('sku', 'in', changedSkus).execute();
  const views = await getProductsIn(db, distinct([...changes.products.map((p) => p.productId), ...ofSkus.map((r) => r.product_id)]));
  return [
    ...views.map((view) => ({ topic: productTopic(view.productId), position, payload: productToPayload(view) })),
    ...availability.map((view) => ({ topic: availabilityTopic(view.sku), position, payload: availabilityToPayload(view) })),
  ];
};
