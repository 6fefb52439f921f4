/**
 * The inspector (`/inspector`, admins only): the page, its admin-only JSON routes, and what a
 * process wires into it (src/server/api.ts): the event store, the primary database and the
 * projections, with the event index read on that database.
 */
import type { EventStore } from '../../eventstore/port.js';
import type { DatabaseHandle } from '../../platform/database.js';
import type { ChangeSink, Projection } from '../../projections/projection.js';
import { createEventIndex } from '../../projections/read-models/index.js';
import type { EventIndex } from '../../replay/index.js';
import type { InspectorDeps } from './queries.js';

export { INSPECTOR_API_PATH, INSPECTOR_PATH, inspectorPlugin, type InspectorPluginOptions } from './routes.js';
export type { InspectorDeps } from './queries.js';

export interface InspectorWiring {
  readonly store: EventStore;
  readonly database: DatabaseHandle;
  readonly projections: readonly Projection[];
  readonly sink?: ChangeSink | undefined;
}

/** Adds the event index replay reads (`explain`, the id search): the event_index read model on `database`. */
export const createInspectorDeps = (wiring: InspectorWiring): InspectorDeps => {
  const index: EventIndex = createEventIndex(wiring.database.db);
  return { ...wiring, index };
};
