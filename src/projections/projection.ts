/**
 * What a projection is: the contract between the projector engine (src/projections/engine/) and
 * each read model (src/projections/read-models/). A read model knows its events, its tables and its
 * SQL; the engine knows subscriptions, checkpoints, batching, leadership, parking and rebuilds.
 *
 * Tables live in a PostgreSQL schema of their own per projection generation. Readers always query
 * the live schema, `liveSchemaOf(name)`; a rebuild builds the next generation into a fresh schema
 * while the live one keeps serving, then swaps the two by renaming schemas in one transaction.
 * So a read model never hard-codes a schema: it creates its tables in the schema it is given, and
 * its batch handler receives a transaction whose queries it scopes with `trx.withSchema(schema)`.
 */
import type { Kysely, Transaction } from 'kysely';
import type { RecordedEvent } from '../eventstore/port.js';

/**
 * A change a batch made to the read model, announced after the PostgreSQL commit: cache writers
 * refresh their entries from it and the API's subscriptions hear of it through pub/sub.
 * `topic` is e.g. `availability:<sku>`, `order:<orderId>`, `product:<productId>`.
 */
export interface ProjectionChange {
  readonly topic: string;
  /** Position of the last event of the batch that made the change (the entry's stamp). */
  readonly position: bigint;
  /** JSON-serialisable: what a cache entry or a subscriber needs (the new row, usually). */
  readonly payload: Readonly<Record<string, unknown>>;
  /**
   * The W3C trace context of the event at `position`, while tracing is on: the subscription push
   * it causes continues that event's trace.
   */
  readonly traceparent?: string;
}

export interface ApplyContext {
  /** The schema this generation's tables live in (live or being rebuilt). */
  readonly schema: string;
  /** True while building a generation that does not serve reads yet (no changes are announced). */
  readonly rebuilding: boolean;
}

export interface Projection {
  /** Stable identifier, `[a-z][a-z0-9_]*` (it becomes part of schema names), e.g. `catalog`. */
  readonly name: string;
  /** One line for `keel projections list`. */
  readonly description: string;
  /** Bump when the tables or the handler change: the engine then rebuilds blue/green. */
  readonly version: number;
  /** The event types it handles; the engine subscribes with this filter. */
  readonly eventTypes: readonly string[];
  /** Its tables (names without schema), for row-count verification and `status`. */
  readonly tables: readonly string[];
  /**
   * The key whose events must be applied in order (a SKU, an order id). When an event fails and is
   * parked, later events of the same key wait behind it; other keys go on.
   */
  keyOf(event: RecordedEvent): string;
  /**
   * Lineage (`keel projections trace|diff`): the keys whose rows `event` writes. Default
   * `[keyOf(event)]`; a read model says more when an event also writes rows of another key (a sale
   * adding to its day's totals: key `<day>`). Must be cheap and must not throw.
   */
  lineageKeysOf?(event: RecordedEvent): readonly string[];
  /**
   * For `diff`: the keys whose events must be applied too to rebuild the rows `event` writes, when
   * it reads rows of other keys (a sale reads its order's line and its SKU's product). Default none.
   */
  lineageInputsOf?(event: RecordedEvent): readonly string[];
  /**
   * For `diff`: per table, the column holding the key a row belongs to (compared as text), so the
   * rows of key k are those whose column is k, written only by the lineage events of k. Tables left
   * out are not compared. Without it `diff` refuses the projection (`trace` still works).
   */
  readonly rowsOfKey?: Readonly<Record<string, string>>;
  /** Creates its tables and indexes in `schema` (which exists and is empty). */
  createTables(db: Kysely<unknown>, schema: string): Promise<void>;
  /**
   * Applies one batch, in position order, inside the engine's transaction (which also writes the
   * checkpoint). Must be deterministic: the same events on the same rows give the same rows.
   * Returns the changes to announce after commit (ignored while rebuilding).
   */
  apply(trx: Transaction<unknown>, events: readonly RecordedEvent[], context: ApplyContext): Promise<readonly ProjectionChange[]>;
}

/** The schema readers query for projection `name`. */
export const liveSchemaOf = (name: string): string => `rm_${name}`;

/** Where the announced changes go after commit (the Redis or in-process cache layer). */
export interface ChangeSink {
  /** Best effort: a failure is logged by the engine and never fails or repeats the batch. */
  publish(changes: readonly ProjectionChange[]): Promise<void>;
}
