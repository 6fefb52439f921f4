import { DomainError } from '../../platform/errors.js';
import type { FulfilmentDeps } from './reactions.js';
import { dueDeadlines, removeDeadline } from './store.js';

/**
 * Cancels orders still pending when their reservations run out; the OrderCancelled reaction then
 * releases the stock and refunds. An order that is no longer pending just loses its deadline.
 */
export const expireDueOrders = async (deps: FulfilmentDeps, processName: string, limit = 100): Promise<number> => {
  const now = deps.clock();
  const due = await dueDeadlines(deps.db, now, limit);
  for (const orderId of due) {
    const request = { actor: `process:${processName}`, now: now.toISOString(), commandId: `expire-order:${orderId}` };
    try {
      await deps.commerce.cancelOrder({ orderId, reason: 'expired' }, request);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      await removeDeadline(deps.db, orderId);
    }
  }
  return due.length;
};
