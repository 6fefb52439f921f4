import { v5 as uuidv5 } from 'uuid';

/** Namespace of Keel's deterministic event ids (a fixed, random UUID). */
const KEEL_EVENT_NAMESPACE = '6f1d0c59-4b61-4a8e-9d3a-2f6c8e4b7a10';

/**
 * Event ids derive from the command id, so a re-sent command produces the same ids and the event
 * store's idempotency by event id makes the second append a no-op.
 */
export const eventIdFor = (commandId: string, index: number): string =>
  uuidv5(`${commandId}/${index}`, KEEL_EVENT_NAMESPACE);
