/**
 * Cursor pagination: a cursor is the base64url of the JSON of a row's sort key, opaque to clients.
 * Every item of a page has its own cursor, so a client can continue right after any item (a Relay
 * edge's `cursor`), not only after the last one. A cursor that does not decode to the expected key
 * is a validation error on `after`.
 */
import type { z } from 'zod';
import { ValidationError } from '../../../platform/errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface PageRequest {
  /** How many items (1 to 100, default 20). */
  readonly first?: number;
  /** The `endCursor` of the previous page, or the cursor of any item: the page starts right after it. */
  readonly after?: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** `cursors[i]` is the cursor of `items[i]` (same length as `items`). */
  readonly cursors: readonly string[];
  /** Cursor of the last item, to pass as `after` (null when the page is empty). */
  readonly endCursor: string | null;
  readonly hasNextPage: boolean;
}

export const encodeCursor = (key: unknown): string => Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');

export const decodeCursor = <T>(cursor: string, schema: z.ZodType<T>): T => {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError('after', 'is not a cursor returned by this query');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ValidationError('after', 'is not a cursor returned by this query');
  return parsed.data;
};

export const pageSize = (first: number | undefined): number => {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new ValidationError('first', `must be an integer between 1 and ${MAX_PAGE_SIZE}`);
  }
  return size;
};

/** Rows fetched with `limit size + 1` → the page, each item's cursor and whether more follow. */
export const toPage = <Row, Item>(
  rows: readonly Row[],
  size: number,
  toItem: (row: Row) => Item,
  keyOf: (row: Row) => unknown,
): Page<Item> => {
  const kept = rows.slice(0, size);
  const cursors = kept.map((row) => encodeCursor(keyOf(row)));
  return {
    items: kept.map(toItem),
    cursors,
    endCursor: cursors.at(-1) ?? null,
    hasNextPage: rows.length > size,
  };
};
