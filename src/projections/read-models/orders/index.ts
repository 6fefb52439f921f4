/**
 * Orders read model: orders by customer, and each order's detail (lines with their stock state,
 * totals, status, payment status and a timeline of every event that concerned it).
 */
import type { Projection } from '../../projection.js';
import { keyFrom } from '../support/events.js';
import { applyOrders } from './apply.js';
import { ORDERS_EVENT_TYPES } from './fold.js';
import { ORDERS } from './queries.js';
import { createOrdersTables, ORDERS_TABLES } from './tables.js';

export const ordersProjection: Projection = {
  name: ORDERS,
  description: 'Orders by customer and order detail: lines, totals, status, payment status, timeline',
  version: 1,
  eventTypes: ORDERS_EVENT_TYPES,
  tables: ORDERS_TABLES,
  /** Every event it handles carries the order id (payment events too). */
  keyOf: (event) => keyFrom(event, 'orderId'),
  /** Every row belongs to one order, and only that order's events write it (lineage = keyOf). */
  rowsOfKey: { orders: 'order_id', order_lines: 'order_id', order_timeline: 'order_id' },
  createTables: createOrdersTables,
  apply: applyOrders,
};

export * from './queries.js';
export type { LineStockStatus, OrderStatus, PaymentStatus } from './tables.js';
