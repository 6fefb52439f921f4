/**
 * The one multi-row upsert every read model's store.ts writes with: `insert into "schema"."table"
 * (columns) values (…), (…) on conflict (key) do update set col = excluded.col, …`, chunked (see
 * INSERT_CHUNK), or `do nothing` when no column is updated (a row already there is left alone).
 */
import { sql } from 'kysely';
import type { Kysely, RawBuilder } from 'kysely';
import { distinct } from './events.js';
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

const merged = (table: string, column: string, how: Merge): RawBuilder<unknown> =>
  how === 'add'
    ? sql`${sql.id(table, column)} + ${sql.id('excluded', column)}`
    : sql`greatest(${sql.id(table, column)}, ${sql.id('excluded', column)})`;

const upsertStatement = <R extends Row>(
  schema: string,
  table: string,
  rows: readonly R[],
  options: UpsertOptions<Extract<keyof R, string>>,
): RawBuilder<unknown> => {
  // As Kysely's insert: every column some row gives, first-seen order; a missing (undefined) one is `default`.
  const columns = distinct(rows.flatMap((row) => Object.keys(row).filter((column) => row[column] !== undefined)));
  const values = rows.map(
    (row) => sql`(${sql.join(columns.map((column) => (row[column] === undefined ? sql`default` : sql.val(row[column]))))})`,
  );
  const sets = [
    ...(options.columns ?? []).map((column) => sql`${sql.id(column)} = ${sql.id('excluded', column)}`),
    ...Object.entries(options.merge ?? {}).flatMap(([column, how]) =>
      how === undefined ? [] : [sql`${sql.id(column)} = ${merged(table, column, how)}`],
    ),
  ];
  const onConflict = sets.length === 0 ? sql`do nothing` : sql`do update set ${sql.join(sets)}`;
  const names = sql.join(columns.map((column) => sql.id(column)));
  const key = sql.join(options.key.map((column) => sql.id(column)));
  return sql`insert into ${sql.id(schema, table)} (${names}) values ${sql.join(values)} on conflict (${key}) ${onConflict}`;
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
  for (const chunk of chunks(rows)) await upsertStatement(schema, table, chunk, options).execute(db);
};
