/** The flash-sale board's queries (live schema). */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { ValidationError } from '../../../platform/errors.js';
import { liveSchemaOf } from '../../projection.js';
import { decodeCursor, pageSize, toPage } from '../support/pagination.js';
import type { Page, PageRequest } from '../support/pagination.js';
import { asText, toIsoOrNull } from '../support/sql.js';
import type { FlashSaleDb, FlashSaleTables } from './tables.js';
import type { FlashSaleBoardRow } from './views.js';

export type { FlashSaleBoardRow } from './views.js';
export { boardRowToPayload } from './views.js';

export const FLASH_SALE = 'flash_sale';

/** At most this many rows when the whole board is asked for. */
export const MAX_BOARD_ROWS = 1_000;

const live = (db: Kysely<unknown>): FlashSaleDb => db.withSchema(liveSchemaOf(FLASH_SALE)).withTables<FlashSaleTables>();

const boardColumns = (db: FlashSaleDb) =>
  db
    .selectFrom('board')
    .select(['sku', 'product_id', 'last_sale_at', 'last_sale_order_id', 'last_sale_quantity'])
    .select([
      asText('received').as('received'),
      asText('reserved').as('reserved'),
      asText('sold').as('sold'),
      asText('units_left').as('units_left'),
      asText('updated_position').as('updated_position'),
    ]);

type BoardSelect = Awaited<ReturnType<ReturnType<typeof boardColumns>['execute']>>[number];

const toBoardRow = (row: BoardSelect): FlashSaleBoardRow => {
  const at = toIsoOrNull(row.last_sale_at);
  return {
    sku: row.sku,
    productId: row.product_id,
    unitsLeft: Number(row.units_left),
    reserved: Number(row.reserved),
    sold: Number(row.sold),
    received: Number(row.received),
    lastSale:
      at === null || row.last_sale_order_id === null || row.last_sale_quantity === null
        ? null
        : { at, orderId: row.last_sale_order_id, quantity: row.last_sale_quantity },
    updatedPosition: BigInt(row.updated_position),
  };
};

export const getBoardIn = async (db: FlashSaleDb, skus?: readonly string[], limit = MAX_BOARD_ROWS): Promise<FlashSaleBoardRow[]> => {
  if (skus !== undefined && skus.length === 0) return [];
  let query = boardColumns(db);
  if (skus !== undefined) query = query.where('sku', 'in', skus);
  const rows = await query.orderBy('sku').limit(limit).execute();
  return rows.map(toBoardRow);
};

export interface FlashSaleBoardOptions {
  /** One SKU's row (an empty list if untracked); absent: every SKU's. */
  readonly sku?: string;
  /** At most this many rows (1 to 1,000, default 1,000). */
  readonly first?: number;
}

/** The board, ordered by SKU. */
export const getFlashSaleBoard = async (db: Kysely<unknown>, options: FlashSaleBoardOptions = {}): Promise<readonly FlashSaleBoardRow[]> => {
  const first = options.first ?? MAX_BOARD_ROWS;
  if (!Number.isInteger(first) || first < 1 || first > MAX_BOARD_ROWS) {
    throw new ValidationError('first', `must be an integer between 1 and ${MAX_BOARD_ROWS}`);
  }
  return getBoardIn(live(db), options.sku === undefined ? undefined : [options.sku], first);
};

const boardCursorSchema = z.tuple([z.string().regex(/^-?\d+$/), z.string()]);

/**
 * The board as the API shows it: fewest units left first, then by SKU, `first` (1 to 100) at a time
 * after the cursor, ordered and limited in SQL. Units left change while a sale runs, so a client
 * paging through a live board may see a SKU twice or miss one that moved across the cursor.
 */
export const listFlashSaleBoard = async (db: Kysely<unknown>, options: PageRequest = {}): Promise<Page<FlashSaleBoardRow>> => {
  const size = pageSize(options.first);
  let query = boardColumns(live(db));
  if (options.after !== undefined) {
    const [unitsLeft, sku] = decodeCursor(options.after, boardCursorSchema);
    query = query.where(sql<boolean>`(board.units_left, board.sku) > (${unitsLeft}::bigint, ${sku})`);
  }
  // Qualified: a bare name would order by the selected `::text` alias ('10' before '9').
  const rows = await query.orderBy('board.units_left').orderBy('board.sku').limit(size + 1).execute();
  return toPage(rows, size, toBoardRow, (row) => [row.units_left, row.sku]);
};
