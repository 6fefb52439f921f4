/**
 * Embedded mode keeps the read models in PGlite: the same tables, folds and queries must work
 * there (generated columns, row comparisons, jsonb, int8 as text).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../../src/platform/database.js';
import { openDatabase } from '../../../src/platform/database.js';
import { liveSchemaOf } from '../../../src/projections/projection.js';
import { getAvailability, getProduct, listProducts } from '../../../src/projections/read-models/catalog/index.js';
import { dailySales } from '../../../src/projections/read-models/daily-sales/index.js';
import { getFlashSaleBoard } from '../../../src/projections/read-models/flash-sale/index.js';
import { readModels } from '../../../src/projections/read-models/index.js';
import { getOrder, listOrdersOfCustomer } from '../../../src/projections/read-models/orders/index.js';
import { applyBatches, resetSchema, rowsOf } from '../../support/projection-spec.js';
import {
  committed,
  confirmed,
  history,
  listed,
  paymentAuthorized,
  paymentRequested,
  placed,
  placedV1,
  received,
  reserved,
  tracked,
} from '../../support/read-model-events.js';

describe('read models on embedded PGlite', () => {
  let dir: string;
  let handle: DatabaseHandle;
  const at = '2026-11-23T10:00:00.000Z';
  const events = history(
    tracked('A', 'pa'),
    listed('pa', 'A', 'Alpha', 500),
    received('A', 10),
    placed('o1', 'c1', [{ sku: 'A', quantity: 2, unitPrice: 500 }], at),
    reserved('A', 'o1', 2, at),
    paymentRequested('o1', 1000, at),
    paymentAuthorized('o1', 1000, at),
    confirmed('o1', at),
    committed('A', 'o1', 2, at),
    placedV1('o0', 'c1', [{ sku: 'A', qty: 1, price: '4.50' }], at),
  );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-rm-pglite-'));
    handle = await openDatabase({ dataDir: dir });
    for (const projection of readModels) {
      await resetSchema(handle.db, projection, liveSchemaOf(projection.name));
      await applyBatches(handle.db, projection, events, { batchSize: 3 });
    }
  });
  afterAll(async () => {
    await handle.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers every query as on PostgreSQL', async () => {
    const db = handle.db;
    expect(await getProduct(db, 'pa')).toMatchObject({ price: 500, available: 8, updatedPosition: 900n });
    expect(await getAvailability(db, 'A')).toMatchObject({ received: 10, sold: 2, available: 8 });
    const page = await listProducts(db, { first: 1, filter: { inStock: true, nameContains: 'alp' } });
    expect(page.items.map((p) => p.productId)).toEqual(['pa']);
    expect(await listProducts(db, { after: page.endCursor ?? '' })).toMatchObject({ items: [], hasNextPage: false });
    expect(await getOrder(db, 'o1')).toMatchObject({ status: 'confirmed', paymentStatus: 'authorized', lines: [{ stockStatus: 'committed' }] });
    expect((await getOrder(db, 'o1'))?.timeline).toHaveLength(6);
    expect((await listOrdersOfCustomer(db, 'c1')).items.map((o) => [o.orderId, o.total])).toEqual([
      ['o0', 450],
      ['o1', 1000],
    ]);
    expect(await getFlashSaleBoard(db, { sku: 'A' })).toMatchObject([{ unitsLeft: 8, sold: 2, lastSale: { orderId: 'o1', at } }]);
    expect(await dailySales(db, { from: '2026-11-23', to: '2026-11-23' })).toMatchObject([{ productId: 'pa', units: 2, revenue: 1000 }]);
  });

  it('a rebuild generation applied one event at a time matches the live one', async () => {
    for (const projection of readModels) {
      const next = `${liveSchemaOf(projection.name)}_next`;
      await resetSchema(handle.db, projection, next);
      await applyBatches(handle.db, projection, events, { schema: next, rebuilding: true, batchSize: 1 });
      expect(await rowsOf(handle.db, projection, next)).toEqual(await rowsOf(handle.db, projection, liveSchemaOf(projection.name)));
    }
  });
});
