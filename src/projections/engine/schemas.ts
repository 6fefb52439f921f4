/** Schema names of a projection's generations, and the DDL the engine runs on them. */
import { sql, type Kysely } from 'kysely';
import { liveSchemaOf } from '../projection.js';

const NAME = /^[a-z][a-z0-9_]*$/;

export const assertProjectionName = (name: string): void => {
  if (!NAME.test(name) || name.length > 40) throw new Error(`Invalid projection name "${name}": use [a-z][a-z0-9_]*, at most 40 characters.`);
};

export { liveSchemaOf };
/** Where generation `generation` is built before it is swapped in. */
export const buildSchemaOf = (name: string, generation: number): string => `rm_${name}__g${generation}`;
/** Where the generation a swap replaced is kept until `--drop-old`. */
export const oldSchemaOf = (name: string, generation: number): string => `rm_${name}__old_g${generation}`;

/** Identifiers here are built from validated names only; quoting keeps them exact. */
const ident = (schema: string) => sql.id(schema);

export const createSchema = async (db: Kysely<unknown>, schema: string): Promise<void> => {
  await sql`CREATE SCHEMA ${ident(schema)}`.execute(db);
};

export const dropSchema = async (db: Kysely<unknown>, schema: string): Promise<void> => {
  await sql`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`.execute(db);
};

export const renameSchema = async (db: Kysely<unknown>, from: string, to: string): Promise<void> => {
  await sql`ALTER SCHEMA ${ident(from)} RENAME TO ${ident(to)}`.execute(db);
};

export const schemaExists = async (db: Kysely<unknown>, schema: string): Promise<boolean> => {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_namespace where nspname = ${schema}`.execute(db);
  return (rows[0]?.n ?? 0) > 0;
};

/** Kept old generations of `name`, oldest first. */
export const oldSchemasOf = async (db: Kysely<unknown>, name: string): Promise<string[]> => {
  const { rows } = await sql<{ nspname: string }>`select nspname from pg_namespace where nspname like ${`rm\\_${name.replace(/_/g, '\\_')}\\_\\_old\\_g%`} order by nspname`.execute(db);
  return rows.map((row) => row.nspname).filter((schema) => new RegExp(`^rm_${name}__old_g\\d+$`).test(schema));
};

/** Exact row count of `schema.table` (the verification before a swap compares these). */
export const countRows = async (db: Kysely<unknown>, schema: string, table: string): Promise<number | undefined> => {
  const { rows: exists } = await sql<{ n: number }>`select count(*)::int as n from pg_tables where schemaname = ${schema} and tablename = ${table}`.execute(db);
  if ((exists[0]?.n ?? 0) === 0) return undefined;
  const { rows } = await sql<{ n: string }>`select count(*)::text as n from ${sql.table(`${schema}.${table}`)}`.execute(db);
  return Number(rows[0]?.n ?? 0);
};
