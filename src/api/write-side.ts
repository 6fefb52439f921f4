/**
 * What the mutations need of the write side: the business commands, and one question the API
 * must answer before letting a customer cancel: who placed this order? That is read from the order
 * stream itself through the command handler (a fresh load of the order aggregate from the event
 * store), never from a read model, so the write path does not depend on projections.
 */
import { orderAggregate } from '../commands/aggregates.js';
import type { CommerceCommands } from '../commands/front-door.js';
import type { CommandHandler } from '../commands/handler/index.js';
import { orderStreamId } from '../commands/order/index.js';

export interface ApiWriteSide {
  readonly commerce: CommerceCommands;
  /** The customer who placed order `orderId`; undefined when no such order was placed. */
  orderOwner(orderId: string): Promise<string | undefined>;
}

export const createApiWriteSide = (handler: CommandHandler, commerce: CommerceCommands): ApiWriteSide => ({
  commerce,
  async orderOwner(orderId) {
    const { state } = await handler.load(orderAggregate, orderStreamId(orderId), { fresh: true });
    return state.status === 'none' ? undefined : state.customerId;
  },
});
