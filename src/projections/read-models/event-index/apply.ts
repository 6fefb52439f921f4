/**
 * The event index's batch handler and the references it writes. Every event gets `event:<id>`;
 * `correlation:<id>` when its metadata carries a correlation id (the whole causal chain of a command:
 * the process manager's reactions keep it); and `order:<id>`, `payment:<id>`, `product:<id>` for the
 * ids its data names. Not the SKU: a SKU's events are its own inventory stream (read it directly),
 * and indexing it would add a row per event of the hottest stream for nothing.
 *
 * The fields are read from the raw data, not decoded: cheap, and it never throws, so no event is
 * ever parked here. Rows go in with one multi-row insert per batch (chunked under the bind
 * parameter limit, PGlite's included), `on conflict do nothing`: a re-delivered batch changes
 * nothing. Nothing is cached, so no change is announced.
 */
import type { Insertable, Kysely, Transaction } from 'kysely';
import type { RecordedEvent } from '../../../eventstore/port.js';
import type { ApplyContext, ProjectionChange } from '../../projection.js';
import { rawField } from '../support/events.js';
import { chunks } from '../support/sql.js';
import { EVENT_REFS_COLUMNS } from './tables.js';
import type { EventIndexTables, EventRefsTable } from './tables.js';

export const eventRef = (eventId: string): string => `event:${eventId}`;
export const correlationRef = (correlationId: string): string => `correlation:${correlationId}`;
export const orderRef = (orderId: string): string => `order:${orderId}`;
export const paymentRef = (paymentId: string): string => `payment:${paymentId}`;
export const productRef = (productId: string): string => `product:${productId}`;

/** The data fields that name an entity, and the reference each becomes (no `sku`: see above). */
const ENTITY_FIELDS: ReadonlyArray<readonly [field: string, toRef: (id: string) => string]> = [
  ['orderId', orderRef],
  ['paymentId', paymentRef],
  ['productId', productRef],
];

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

const correlationRefs = (event: RecordedEvent): string[] => {
  const correlationId = event.metadata.correlationId;
  return nonEmpty(correlationId) ? [correlationRef(correlationId)] : [];
};

const entityRefs = (event: RecordedEvent): string[] =>
  ENTITY_FIELDS.flatMap(([field, toRef]) => {
    const id = rawField(event, field);
    return nonEmpty(id) ? [toRef(id)] : [];
  });

/**
 * The references of one event, each once: `event:<id>` first, then its correlation, then the
 * order, payment and product its data names (string fields only; anything else is left out).
 */
export const refsOf = (event: RecordedEvent): string[] => [eventRef(event.id), ...correlationRefs(event), ...entityRefs(event)];

const rowsOf = (event: RecordedEvent): Insertable<EventRefsTable>[] =>
  refsOf(event).map((ref) => ({ ref, position: event.position, stream_id: event.streamId, revision: event.revision }));

/**
 * Bind parameters per statement. PostgreSQL takes 65,535, but PGlite (embedded mode) takes 32,767:
 * at 32,768 it answers no rows without an error and its connection then answers no rows to every
 * later query. So 8,191 rows per insert: a batch of up to about 2,700 events is one statement.
 */
export const MAX_BIND_PARAMETERS = 32_767;
export const ROWS_PER_STATEMENT = Math.floor(MAX_BIND_PARAMETERS / EVENT_REFS_COLUMNS);

const insertRefs = async (db: Kysely<unknown>, schema: string, rows: readonly Insertable<EventRefsTable>[]): Promise<void> => {
  const table = db.withSchema(schema).withTables<EventIndexTables>();
  for (const chunk of chunks(rows, ROWS_PER_STATEMENT)) {
    await table
      .insertInto('event_refs')
      .values(chunk)
      .onConflict((conflict) => conflict.columns(['ref', 'position']).doNothing())
      .execute();
  }
};

export const applyEventIndex = async (
  trx: Transaction<unknown>,
  events: readonly RecordedEvent[],
  context: ApplyContext,
): Promise<readonly ProjectionChange[]> => {
  await insertRefs(trx, context.schema, events.flatMap(rowsOf));
  return [];
};
