/**
 * The projector engine with its events in EventStoreDB (the adapter on EsdbProtocolDouble, an
 * in-process FAKE of EventStoreDB's protocol) and its read model and checkpoint in PostgreSQL:
 * while writers append, the projector is stopped and restarted from its PostgreSQL checkpoint and
 * the double drops every connection; the read model must end equal to a from-scratch build, every
 * event applied once. The checkpoint is an EventStoreDB commit position stored in the same
 * PostgreSQL transaction as the rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readControl, startProjections } from '../../../src/projections/engine/index.js';
import type { Projections } from '../../../src/projections/engine/index.js';
import { liveSchemaOf } from '../../../src/projections/projection.js';
import { appendCounted, buildFromScratch, snapshot, testProjection } from '../../support/projection-test-model.js';
import { openWriteSide, type WriteSide } from '../../support/write-side.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

describe('projector engine on the EventStoreDB adapter (protocol double, fake), checkpoint in PostgreSQL', () => {
  let side: WriteSide;
  const projection = testProjection({ name: 'esdb_counts' });
  const start = (): Promise<Projections> =>
    startProjections({ handle: side.handle, store: side.store, projections: [projection], logger: quiet, tuning: { maxBatch: 300 } });

  beforeAll(async () => {
    side = await openWriteSide('esdb_projections', 'esdb');
    expect(side.store.kind).toBe('eventstoredb');
  });
  afterAll(async () => {
    await side?.close();
  });

  it('survives restarts and dropped connections mid-stream, applying every event exactly once', async () => {
    const double = side.double;
    if (double === undefined) throw new Error('no protocol double behind the esdb write side');
    let last = await appendCounted(side.store, 'before', 1_000, 7, 50);
    let projections = await start();
    for (let round = 0; round < 4; round++) {
      // Events keep arriving while the projector is interrupted: a stop (commits its batch) and a restart
      // from the PostgreSQL checkpoint, then every gRPC call dropped while it tails and the writer appends
      // (the adapter re-sends an append that failed as unavailable: same ids, so idempotent).
      const writing = appendCounted(side.store, `round${round}`, 600, 5, 20);
      await projections.stop();
      projections = await start();
      double.dropConnections();
      last = await writing;
    }
    try {
      await projections.waitFor(projection.name, last, { timeoutMs: 60_000 });
      const control = await readControl(side.handle.db, projection.name);
      expect(control?.position).toBe(last);
      await buildFromScratch(side.handle.db, side.store, projection, 'esdb_counts_reference', last);
      const live = await snapshot(side.handle.db, liveSchemaOf(projection.name));
      expect(live).toEqual(await snapshot(side.handle.db, 'esdb_counts_reference'));
      expect(live.totals).toEqual([{ events: 1_000 + 4 * 600, total: expect.any(String) }]);
    } finally {
      await projections.stop();
    }
  });
});
