/** How each aggregate is stored: its decider plus reading stored events as today's shape. */
import {
  currentVersion,
  inventoryEventTypes,
  orderEventTypes,
  parseEventOf,
  paymentEventTypes,
  productEventTypes,
  type EventOf,
  type EventType,
} from '../events/index.js';
import type { Decider } from './decider.js';
import type { Aggregate } from './handler/types.js';
import { inventoryDecider } from './inventory/index.js';
import { orderDecider } from './order/index.js';
import { paymentDecider } from './payment/index.js';
import { productDecider } from './product/index.js';

/** Stored events are upcast to the current schema (and validated) before the decider sees them. */
const aggregateOf = <C, T extends EventType, S>(
  name: string,
  decider: Decider<C, EventOf<T>, S>,
  eventTypes: readonly T[],
): Aggregate<C, EventOf<T>, S> => ({
  name,
  decider,
  schemaVersion: currentVersion,
  fromStored: (stored) => parseEventOf(eventTypes, stored),
});

export const productAggregate = aggregateOf('product', productDecider, productEventTypes);
export const inventoryAggregate = aggregateOf('inventory', inventoryDecider, inventoryEventTypes);
export const orderAggregate = aggregateOf('order', orderDecider, orderEventTypes);
export const paymentAggregate = aggregateOf('payment', paymentDecider, paymentEventTypes);
