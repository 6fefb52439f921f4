/**
 * The read replica (`DATABASE_READ_URL`): a PostgreSQL handle for the API's queries whose every
 * session starts with `default_transaction_read_only=on`, so nothing in this process writes to it,
 * even when the URL points at a writable server (a hot standby refuses writes anyway). Nothing
 * migrates it or LISTENs on it: it gets its schema, rows and checkpoints from its primary.
 */
import { openDatabase } from './database.js';
import type { DatabaseHandle } from './database.js';

const READ_ONLY = '-c default_transaction_read_only=on';

/** `url` with `default_transaction_read_only=on` added to its startup `options` (kept if present). */
export const readOnlyUrl = (url: string): string => {
  const parsed = new URL(url);
  const options = parsed.searchParams.get('options');
  parsed.searchParams.set('options', options === null || options.trim() === '' ? READ_ONLY : `${options} ${READ_ONLY}`);
  return parsed.toString();
};

export interface OpenReadReplicaOptions {
  /** node-postgres pool size (default that of `openDatabase`). */
  readonly poolSize?: number;
}

export const openReadReplica = (url: string, options: OpenReadReplicaOptions = {}): Promise<DatabaseHandle> =>
  openDatabase({ databaseUrl: readOnlyUrl(url), dataDir: '', ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }) });
