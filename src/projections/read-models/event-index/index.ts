/**
 * Event index read model: every event by its id, its correlation id and the order, payment and
 * product it names, so `keel explain order <id>` finds one order's events across streams (its
 * reservations in a hot inventory stream, its payment, the process manager's reactions) with an
 * index lookup instead of a scan, on every event store. 2–4 rows per event; nothing cached.
 */
import { eventTypes } from '../../../events/index.js';
import type { Projection } from '../../projection.js';
import type { Kysely } from 'kysely';
import { applyEventIndex, refsOf } from './apply.js';
import { createEventIndexReader, EVENT_INDEX } from './reader.js';
import { createEventIndexTables, EVENT_INDEX_TABLES } from './tables.js';

export const eventIndexProjection: Projection = {
  name: EVENT_INDEX,
  description: 'Every event by id, correlation id and the order, payment and product it names (keel explain)',
  version: 1,
  eventTypes,
  tables: EVENT_INDEX_TABLES,
  /** No event depends on another here: a parked event holds back only its own stream. */
  keyOf: (event) => event.streamId,
  createTables: createEventIndexTables,
  apply: applyEventIndex,
};

export { correlationRef, eventRef, orderRef, paymentRef, productRef, refsOf } from './apply.js';
export { createEventIndexReader, EVENT_INDEX } from './reader.js';
export type { EventIndexReader, IndexedEventRef } from './reader.js';

/**
 * The index as replay asks for it (src/replay's `EventIndex`): lookups and checkpoint from the
 * live tables, and `refsOf` to match events in the log beyond the checkpoint.
 */
export const createEventIndex = (db: Kysely<unknown>) => ({ ...createEventIndexReader(db), refsOf });
