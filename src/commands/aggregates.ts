/** How each aggregate is stored: its decider plus reading stored events as today's shape. */
import {
  currentVersion,
  inventoryEventTypes,
  orderEventTypes,
  parseEventOf,
  paymentEventTypes,
  productEventTypes,
  type InventoryEvent,
  type OrderEvent,
  type PaymentEvent,
  type ProductEvent,
} from '../events/index.js';
import type { Aggregate } from './handler/types.js';
import { inventoryDecider, type InventoryCommand, type InventoryState } from './inventory/index.js';
import { orderDecider, type OrderCommand, type OrderState } from './order/index.js';
import { paymentDecider, type PaymentCommand, type PaymentState } from './payment/index.js';
import { productDecider, type ProductCommand, type ProductState } from './product/index.js';

export const productAggregate: Aggregate<ProductCommand, ProductEvent, ProductState> = {
  name: 'product',
  decider: productDecider,
  schemaVersion: currentVersion,
  fromStored: (stored) => parseEventOf(productEventTypes, stored),
};

export const inventoryAggregate: Aggregate<InventoryCommand, InventoryEvent, InventoryState> = {
  name: 'inventory',
  decider: inventoryDecider,
  schemaVersion: currentVersion,
  fromStored: (stored) => parseEventOf(inventoryEventTypes, stored),
};

export const orderAggregate: Aggregate<OrderCommand, OrderEvent, OrderState> = {
  name: 'order',
  decider: orderDecider,
  schemaVersion: currentVersion,
  fromStored: (stored) => parseEventOf(orderEventTypes, stored),
};

export const paymentAggregate: Aggregate<PaymentCommand, PaymentEvent, PaymentState> = {
  name: 'payment',
  decider: paymentDecider,
  schemaVersion: currentVersion,
  fromStored: (stored) => parseEventOf(paymentEventTypes, stored),
};
