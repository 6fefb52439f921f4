/** The event store's migrations, listed explicitly (bundlers and tsx need no directory scan). */
import type { Migration } from 'kysely';
import * as eventStore from './2026-11-23-0001-event-store.js';

export const eventStoreMigrations: Readonly<Record<string, Migration>> = {
  '2026-11-23-0001-event-store': eventStore,
};
