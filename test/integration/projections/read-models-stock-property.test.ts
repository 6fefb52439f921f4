/**
 * For any sequence of inventory commands the decider accepts, split into batches at random, the
 * catalog's availability and the flash-sale board count exactly what the inventory aggregate
 * counts (received, reserved, sold), and a rebuild one event per batch gives the same rows.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryDecider } from '../../../src/commands/inventory/index.js';
import type { InventoryCommand, InventoryState } from '../../../src/commands/inventory/index.js';
import type { InventoryEvent } from '../../../src/events/index.js';
import type { DatabaseHandle } from '../../../src/platform/database.js';
import { openDatabase } from '../../../src/platform/database.js';
import { DomainError } from '../../../src/platform/errors.js';
import { liveSchemaOf } from '../../../src/projections/projection.js';
import { catalogProjection, getAvailability } from '../../../src/projections/read-models/catalog/index.js';
import { flashSaleProjection, getFlashSaleBoard } from '../../../src/projections/read-models/flash-sale/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { applyBatches, resetSchema, rowsOf } from '../../support/projection-spec.js';
import { history } from '../../support/read-model-events.js';

const sku = 'FLASH';
const now = '2026-11-23T10:00:00.000Z';
const expiresAt = '2026-11-23T11:00:00.000Z';

type Step =
  | { kind: 'receive'; quantity: number }
  | { kind: 'reserve'; orderId: string; quantity: number }
  | { kind: 'release'; orderId: string }
  | { kind: 'commit'; orderId: string };

const orderId = fc.constantFrom('o1', 'o2', 'o3', 'o4', 'o5');
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('receive' as const), quantity: fc.integer({ min: 1, max: 10 }) }),
  fc.record({ kind: fc.constant('reserve' as const), orderId, quantity: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('release' as const), orderId }),
  fc.record({ kind: fc.constant('commit' as const), orderId }),
);

const commandOf = (s: Step): InventoryCommand => {
  switch (s.kind) {
    case 'receive':
      return { type: 'ReceiveStock', data: { sku, quantity: s.quantity } };
    case 'reserve':
      return { type: 'ReserveStock', data: { sku, orderId: s.orderId, quantity: s.quantity, expiresAt, now } };
    case 'release':
      return { type: 'ReleaseStock', data: { sku, orderId: s.orderId, reason: 'order cancelled', now } };
    case 'commit':
      return { type: 'CommitStock', data: { sku, orderId: s.orderId, now } };
  }
};

/** Runs the steps through the decider; refused commands record nothing. */
const run = (steps: readonly Step[]): { events: InventoryEvent[]; state: InventoryState } => {
  let state = inventoryDecider.evolve(inventoryDecider.initialState(), { type: 'SkuTracked', data: { sku, productId: 'p' } });
  const events: InventoryEvent[] = [{ type: 'SkuTracked', data: { sku, productId: 'p' } }];
  for (const s of steps) {
    try {
      for (const event of inventoryDecider.decide(commandOf(s), state)) {
        events.push(event);
        state = inventoryDecider.evolve(state, event);
      }
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  }
  return { events, state };
};

describe('stock counters of the read models match the inventory aggregate', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    database = await createTestDatabase('rm_stock_property');
    handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
  });
  afterAll(async () => {
    await handle.close();
    await database.drop();
  });

  it('for any accepted command sequence and any batch split', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), fc.integer({ min: 1, max: 12 }), async (steps, batchSize) => {
        const { events, state } = run(steps);
        if (state.status !== 'tracked') throw new Error('untracked');
        const recorded = history(...events.map((e) => ({ type: e.type, data: e.data, streamId: `inventory-${sku}` })));
        for (const projection of [catalogProjection, flashSaleProjection]) {
          await resetSchema(handle.db, projection, liveSchemaOf(projection.name));
          await applyBatches(handle.db, projection, recorded, { batchSize });
        }
        const { received, reserved, sold } = state;
        expect(await getAvailability(handle.db, sku)).toMatchObject({ received, reserved, sold, available: received - reserved - sold });
        expect(await getFlashSaleBoard(handle.db, { sku })).toMatchObject([{ received, reserved, sold, unitsLeft: received - reserved - sold }]);
        const next = `${liveSchemaOf(flashSaleProjection.name)}_next`;
        await resetSchema(handle.db, flashSaleProjection, next);
        await applyBatches(handle.db, flashSaleProjection, recorded, { schema: next, rebuilding: true, batchSize: 1 });
        expect(await rowsOf(handle.db, flashSaleProjection, next)).toEqual(await rowsOf(handle.db, flashSaleProjection, liveSchemaOf(flashSaleProjection.name)));
      }),
      { numRuns: 30 },
    );
  });
});
