export { createEsdbEventStore, DEFAULT_SUBSCRIPTION_SETTINGS } from './esdb-event-store.js';
export type { EsdbEventStoreOptions } from './esdb-event-store.js';
