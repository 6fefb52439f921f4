/**
 * The flash-sale board's batch handler: load the SKUs of the batch, fold, save (store.ts), then
 * announce `flash-sale:<sku>` with the board row of every SKU that changed.
 */
import type { Transaction } from 'kysely';
import type { RecordedEvent } from '../../../eventstore/port.js';
import type { ApplyContext, ProjectionChange } from '../../projection.js';
import { flashSaleTopic } from '../topics.js';
import { decodeBatch, lastPosition } from '../support/events.js';
import { FLASH_SALE_EVENT_TYPES, foldFlashSale } from './fold.js';
import { getBoardIn } from './queries.js';
import { loadFlashSale, saveFlashSale } from './store.js';
import type { FlashSaleTables } from './tables.js';
import { boardRowToPayload } from './views.js';

export const applyFlashSale = async (
  trx: Transaction<unknown>,
  events: readonly RecordedEvent[],
  context: ApplyContext,
): Promise<readonly ProjectionChange[]> => {
  const decoded = decodeBatch(FLASH_SALE_EVENT_TYPES, events);
  const changes = foldFlashSale(await loadFlashSale(trx, context.schema, decoded), decoded);
  await saveFlashSale(trx, context.schema, changes);
  if (context.rebuilding || changes.board.length === 0) return [];
  const position = lastPosition(events);
  const rows = await getBoardIn(trx.withSchema(context.schema).withTables<FlashSaleTables>(), changes.board.map((s) => s.sku));
  return rows.map((row) => ({ topic: flashSaleTopic(row.sku), position, payload: boardRowToPayload(row) }));
};
