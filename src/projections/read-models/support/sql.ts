/**
 * SQL helpers shared by the read models. int8 columns are selected as text and converted (see
 * src/platform/database.ts); timestamps are exposed as ISO-8601 strings.
 */
import { sql } from 'kysely';
import type { ColumnType, RawBuilder } from 'kysely';

/** An int8 column: written as number, bigint or string, always selected through `asText`. */
export type Int8 = ColumnType<string, string | number | bigint, string | number | bigint>;
/** A timestamptz column, written as an ISO string or a Date. */
export type Timestamp = ColumnType<Date | string, Date | string, Date | string>;

/** `column::text`, typed as string: how every int8 column is read. */
export const asText = (column: string): RawBuilder<string> => sql<string>`${sql.ref(column)}::text`;

/** `to_char(column, 'YYYY-MM-DD')`: how `date` columns are read (node-postgres would shift them to local time). */
export const asDay = (column: string): RawBuilder<string> => sql<string>`to_char(${sql.ref(column)}, 'YYYY-MM-DD')`;

export const toIso = (value: Date | string): string => (value instanceof Date ? value : new Date(value)).toISOString();
export const toIsoOrNull = (value: Date | string | null): string | null => (value === null ? null : toIso(value));

/** A quoted `"schema"."table"` for DDL. */
export const qualified = (schema: string, table: string): RawBuilder<unknown> => sql.id(schema, table);

/** Rows per multi-row INSERT, well below PostgreSQL's 65,535 parameters. */
export const INSERT_CHUNK = 500;

export const chunks = <T>(items: readonly T[], size = INSERT_CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** The UTC calendar day ('YYYY-MM-DD') of an ISO-8601 time, whatever its offset. */
export const utcDay = (iso: string): string => new Date(iso).toISOString().slice(0, 10);
