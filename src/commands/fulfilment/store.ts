/** The process manager's tables, through kysely. */
import type { Kysely, Migration } from 'kysely';
import * as fulfilmentTables from './migrations/2026-11-23-0002-fulfilment.js';

export const fulfilmentMigrations: Readonly<Record<string, Migration>> = {
  '2026-11-23-0002-fulfilment': fulfilmentTables,
};

interface CheckpointTable {
  name: string;
  position: string;
  updated_at: Date;
}
interface DeadlineTable {
  order_id: string;
  expires_at: Date;
}
export type FulfilmentTables = {
  keel_process_checkpoints: CheckpointTable;
  keel_fulfilment_deadlines: DeadlineTable;
};
export type FulfilmentDb = Kysely<FulfilmentTables>;

export const readCheckpoint = async (db: FulfilmentDb, name: string): Promise<bigint | undefined> => {
  const row = await db.selectFrom('keel_process_checkpoints').select('position').where('name', '=', name).executeTakeFirst();
  return row ? BigInt(row.position) : undefined;
};

export const writeCheckpoint = async (db: FulfilmentDb, name: string, position: bigint): Promise<void> => {
  await db
    .insertInto('keel_process_checkpoints')
    .values({ name, position: position.toString(), updated_at: new Date() })
    .onConflict((oc) => oc.column('name').doUpdateSet({ position: position.toString(), updated_at: new Date() }))
    .execute();
};

export const addDeadline = async (db: FulfilmentDb, orderId: string, expiresAt: Date): Promise<void> => {
  await db
    .insertInto('keel_fulfilment_deadlines')
    .values({ order_id: orderId, expires_at: expiresAt })
    .onConflict((oc) => oc.column('order_id').doNothing())
    .execute();
};

export const removeDeadline = async (db: FulfilmentDb, orderId: string): Promise<void> => {
  await db.deleteFrom('keel_fulfilment_deadlines').where('order_id', '=', orderId).execute();
};

export const dueDeadlines = async (db: FulfilmentDb, now: Date, limit: number): Promise<string[]> => {
  const rows = await db
    .selectFrom('keel_fulfilment_deadlines')
    .select('order_id')
    .where('expires_at', '<=', now)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
  return rows.map((row) => row.order_id);
};
