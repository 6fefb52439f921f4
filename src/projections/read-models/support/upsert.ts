/**
 * The one multi-row upsert every read model's store.ts writes with: `insert into "schema"."table"
 * (columns) values (…), (…) on conflict (key) do update set col = excluded.col, …`, chunked (see
 * INSERT_CHUNK), or `do nothing` when no column is updated (a row already there is left alone).
 */
import { sql } from 'kysely';
import type { Kysely, RawBuilder } from 'kysely';
import { chunks } from './sql.js';

/** How a stored value and the new one combine on conflict, instead of the new one replacing it. */
export type Merge = 'add' | 'greatest';

export interface UpsertOptions<Column extends string> {
  /** The conflict target: the table's primary key. */
  readonly key: readonly Column[];
  /** Set from the new row on conflict: `col = excluded.col`. */
  readonly columns?: readonly Column[];
  /** Combined on conflict: `col = table.col + excluded.col` (add) or `greatest(table.col, excluded.col)`. */
  readonly merge?: Readonly<Partial<Record<Column, Merge>>>;
}

type Row = Readonly<Record<string, unknown>>;

/** Any table of the schema: the rows' own types (`Insertable<…Table>` at the call) check the columns. */
type AnyTables = Record<string, Record<string, unknown>>;

const merged = (table: string, column: string, how: Merge): RawBuilder<unknown> =>
  how === 'add'
    ? sql`${sql.ref(`${table}.${column}`)} + ${sql.ref(`excluded.${column}`)}`
    : sql`greatest(${sql.ref(`${table}.${column}`)}, ${sql.ref(`excluded.${column}`)})`;

/**
 * One statement through kysely's insert builder, whose multi-row `values` compiles as plain
 * parameter lists (a `sql` template per cell compiled about a tenth slower on a rebuild).
 */
const upsertStatement = <R extends Row>(
  db: Kysely<unknown>,
  schema: string,
  table: string,
  rows: readonly R[],
  options: UpsertOptions<Extract<keyof R, string>>,
) => {
  const sets: Array<[string, RawBuilder<unknown>]> = [
    ...(options.columns ?? []).map((column): [string, RawBuilder<unknown>] => [column, sql.ref(`excluded.${column}`)]),
    ...Object.entries(options.merge ?? {}).flatMap(([column, how]): Array<[string, RawBuilder<unknown>]> =>
      how === undefined ? [] : [[column, merged(table, column, how)]],
    ),
  ];
  return db
    .withSchema(schema)
    .withTables<AnyTables>()
    .insertInto(table)
    .values(rows.map((row) => ({ ...row })))
    .onConflict((conflict) => {
      const target = conflict.columns([...options.key]);
      return sets.length === 0 ? target.doNothing() : target.doUpdateSet(Object.fromEntries(sets));
    });
};

/**
 * Upserts `rows` into `schema.table`, one statement per chunk of rows (none for no rows). Rows are
 * the table's insert shape (`Insertable<…Table>`), so the column names are checked.
 */
export const upsertRows = async <R extends Row>(
  db: Kysely<unknown>,
  schema: string,
  table: string,
  rows: readonly R[],
  options: UpsertOptions<Extract<keyof R, string>>,
): Promise<void> => {
  for (const chunk of chunks(rows)) await upsertStatement(db, schema, table, chunk, options).execute();
};
