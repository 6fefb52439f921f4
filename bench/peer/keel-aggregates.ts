/**
 * The peer harness's deciders wrapped as Keel aggregates: its events are stored as they are
 * (`type`, `data`, schema version 1) and read back by type name.
 */
import type { RecordedEvent } from '../../src/eventstore/port.js';
import type { Aggregate } from '../../src/commands/handler/types.js';
import type {
  InventoryCommand,
  InventoryEvent,
  InventoryState,
  OrderCommand,
  OrderEvent,
  OrderState,
  PeerWorkload,
} from './harness-types.js';

export const ORDER_EVENT_TYPES: readonly OrderEvent['type'][] = ['OrderCreated', 'ItemAdded', 'OrderConfirmed'];
const INVENTORY_EVENT_TYPES: readonly InventoryEvent['type'][] = ['StockReceived', 'StockReserved'];

const isOneOf = <T extends string>(types: readonly T[], type: string): type is T => types.some((t) => t === type);

/** The harness wrote these events itself; the type name is checked, the data is taken as written. */
export const toOrderEvent = (stored: RecordedEvent): OrderEvent => {
  if (!isOneOf(ORDER_EVENT_TYPES, stored.type)) throw new Error(`Not an order event: ${stored.type}`);
  return { type: stored.type, data: stored.data } as OrderEvent;
};

export const toInventoryEvent = (stored: RecordedEvent): InventoryEvent => {
  if (!isOneOf(INVENTORY_EVENT_TYPES, stored.type)) throw new Error(`Not an inventory event: ${stored.type}`);
  return { type: stored.type, data: stored.data } as InventoryEvent;
};

export const benchOrderAggregate = (w: PeerWorkload): Aggregate<OrderCommand, OrderEvent, OrderState> => ({
  name: 'bench-order',
  decider: { initialState: w.initialState, evolve: w.evolve, decide: w.decide },
  schemaVersion: () => 1,
  fromStored: toOrderEvent,
});

export const benchInventoryAggregate = (w: PeerWorkload): Aggregate<InventoryCommand, InventoryEvent, InventoryState> => ({
  name: 'bench-inventory',
  decider: { initialState: w.inventoryInitialState, evolve: w.inventoryEvolve, decide: w.inventoryDecide },
  schemaVersion: () => 1,
  fromStored: toInventoryEvent,
});
