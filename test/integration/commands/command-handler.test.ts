import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryAggregate } from '../../../src/commands/aggregates.js';
import { inventoryStreamId } from '../../../src/commands/inventory/index.js';
import { describeCommandHandling } from '../../support/command-handler-scenarios.js';
import { at, commandsOn, openWriteSide, type WriteSide } from '../../support/write-side.js';

const NOW = '2026-11-23T10:00:00.000Z';

for (const target of ['postgres', 'pglite'] as const) {
  describeCommandHandling(target, () => openWriteSide('handler', target));
}

describe('conflict retries are bounded', () => {
  let side: WriteSide;
  beforeAll(async () => {
    side = await openWriteSide('handler_retries');
  });
  afterAll(async () => side.close());

  it('gives up with KEEL_ERR_CONFLICT_RETRIES_EXHAUSTED when another process keeps winning', async () => {
    const stale = commandsOn(side.store, { backoff: { maxRetries: 0, baseMs: 1, maxMs: 1 } });
    const other = commandsOn(side.store);
    await stale.commerce.listProduct({ productId: 'r1', sku: 'R-1', name: 'R', price: 100, currency: 'EUR' }, at(NOW));
    await other.commerce.receiveStock({ sku: 'R-1', quantity: 1 }, at(NOW));
    const attempt = stale.commerce.receiveStock({ sku: 'R-1', quantity: 2 }, at(NOW));
    await expect(attempt).rejects.toMatchObject({ code: 'KEEL_ERR_CONFLICT_RETRIES_EXHAUSTED', details: { streamId: 'inventory-R-1', attempts: 1 } });
    const retried = commandsOn(side.store, { backoff: { maxRetries: 1, baseMs: 1, maxMs: 1 } });
    await retried.handler.load(inventoryAggregate, inventoryStreamId('R-1'));
    await other.commerce.receiveStock({ sku: 'R-1', quantity: 1 }, at(NOW));
    const landed = await retried.commerce.receiveStock({ sku: 'R-1', quantity: 2 }, at(NOW));
    expect(landed.revision).toBe(3n);
    expect(retried.handler.stats().conflicts).toBe(1);
  });
});
