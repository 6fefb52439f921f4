export { createPostgresEventStore } from './postgres-event-store.js';
export type { PostgresEventStoreOptions } from './postgres-event-store.js';
export type { BatcherLimits } from './append-batcher.js';
export { DEFAULT_BATCHER_LIMITS } from './append-batcher.js';
export { eventStoreMigrations } from './migrations/index.js';
export { isConnectionError } from './error-mapping.js';
