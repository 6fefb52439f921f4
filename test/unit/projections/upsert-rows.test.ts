/** The read models' one multi-row upsert: the statements it sends (compiled for PostgreSQL, no database). */
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import type { CompiledQuery } from 'kysely';
import { describe, expect, it } from 'vitest';
import { INSERT_CHUNK } from '../../../src/projections/read-models/support/sql.js';
import { upsertRows } from '../../../src/projections/read-models/support/upsert.js';

const recorder = () => {
  const sent: CompiledQuery[] = [];
  const db = new Kysely<unknown>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (kysely) => new PostgresIntrospector(kysely),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
    log: (event) => {
      if (event.level === 'query') sent.push(event.query);
    },
  });
  return { db, sent };
};

describe('upsertRows', () => {
  it('sends one insert … on conflict do update per chunk, setting the listed columns from excluded', async () => {
    const { db, sent } = recorder();
    const rows = [
      { sku: 'A', received: 1, updated_position: 10n },
      { sku: 'B', received: 2, updated_position: 20n },
    ];
    await upsertRows(db, 'rm_x', 'stock', rows, { key: ['sku'], columns: ['received', 'updated_position'] });
    expect(sent.map((q) => q.sql)).toEqual([
      'insert into "rm_x"."stock" ("sku", "received", "updated_position") values ($1, $2, $3), ($4, $5, $6) on conflict ("sku") do update set "received" = "excluded"."received", "updated_position" = "excluded"."updated_position"',
    ]);
    expect(sent[0]?.parameters).toEqual(['A', 1, 10n, 'B', 2, 20n]);
  });

  it('does nothing on conflict when no column is updated, and merges the ones told to', async () => {
    const { db, sent } = recorder();
    await upsertRows(db, 's', 'sku_products', [{ sku: 'A', product_id: 'p' }], { key: ['sku'] });
    await upsertRows(db, 's', 'daily_sales', [{ product_id: 'p', day: '2026-11-24', units: 2, last_sale_at: 't', updated_position: 5n }], {
      key: ['product_id', 'day'],
      columns: ['updated_position'],
      merge: { units: 'add', last_sale_at: 'greatest' },
    });
    expect(sent.map((q) => q.sql)).toEqual([
      'insert into "s"."sku_products" ("sku", "product_id") values ($1, $2) on conflict ("sku") do nothing',
      'insert into "s"."daily_sales" ("product_id", "day", "units", "last_sale_at", "updated_position") values ($1, $2, $3, $4, $5) on conflict ("product_id", "day") do update set "updated_position" = "excluded"."updated_position", "units" = "s"."daily_sales"."units" + "excluded"."units", "last_sale_at" = greatest("s"."daily_sales"."last_sale_at", "excluded"."last_sale_at")',
    ]);
  });

  it('sends nothing for no rows, and one statement per chunk of INSERT_CHUNK rows; null is a value, undefined the default', async () => {
    const { db, sent } = recorder();
    await upsertRows(db, 's', 't', [], { key: ['id'] });
    expect(sent).toEqual([]);
    const rows = Array.from({ length: INSERT_CHUNK + 1 }, (_, i) => ({ id: i, note: i === 0 ? null : undefined }));
    await upsertRows(db, 's', 't', rows, { key: ['id'] });
    expect(sent.map((q) => q.parameters.length)).toEqual([INSERT_CHUNK + 1, 1]);
    expect(sent[0]?.sql).toMatch(/^insert into "s"\."t" \("id", "note"\) values \(\$1, \$2\), \(\$3, default\), /);
    expect(sent[1]?.sql).toBe('insert into "s"."t" ("id") values ($1) on conflict ("id") do nothing');
  });
});
