/** The order decider: stream `order-<orderId>`. */
import type { OrderCancelled, OrderConfirmed, OrderEvent, OrderPlaced } from '../../events/index.js';
import { DomainError } from '../../platform/errors.js';
import type { Decider } from '../decider.js';
import { unreachable } from '../decider.js';
import type { CancelOrder, ConfirmOrder, OrderCommand, PlaceOrder } from './commands.js';
import type { OrderState, PlacedOrder } from './state.js';

export const ORDER_STREAM_PREFIX = 'order-';
export const orderStreamId = (orderId: string): string => `${ORDER_STREAM_PREFIX}${orderId}`;

export const initialState = (): OrderState => ({ status: 'none' });

/** The order, if it is still pending; otherwise the refusal that fits its status. */
const pending = (state: OrderState, orderId: string): PlacedOrder => {
  switch (state.status) {
    case 'pending':
      return state;
    case 'none':
      throw new DomainError('KEEL_ERR_ORDER_NOT_FOUND', undefined, { orderId });
    case 'cancelled':
      throw new DomainError('KEEL_ERR_ORDER_ALREADY_CANCELLED', undefined, { orderId });
    case 'confirmed':
      throw new DomainError('KEEL_ERR_ORDER_NOT_PENDING', undefined, { orderId, status: state.status });
    default:
      return unreachable(state);
  }
};

export const placeOrder = ({ data }: PlaceOrder, state: OrderState): OrderPlaced[] => {
  if (state.status !== 'none') {
    throw new DomainError('KEEL_ERR_ORDER_ALREADY_PLACED', undefined, { orderId: data.orderId });
  }
  const lines = data.lines.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice }));
  const total = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
  const { orderId, customerId, currency, now } = data;
  return [{ type: 'OrderPlaced', data: { orderId, customerId, lines, currency, total, placedAt: now } }];
};

export const confirmOrder = ({ data }: ConfirmOrder, state: OrderState): OrderConfirmed[] => {
  pending(state, data.orderId);
  const { orderId, paymentId, now } = data;
  return [{ type: 'OrderConfirmed', data: { orderId, paymentId, confirmedAt: now } }];
};

export const cancelOrder = ({ data }: CancelOrder, state: OrderState): OrderCancelled[] => {
  pending(state, data.orderId);
  const { orderId, reason, now } = data;
  return [{ type: 'OrderCancelled', data: { orderId, reason, cancelledAt: now } }];
};

export const decide = (command: OrderCommand, state: OrderState): OrderEvent[] => {
  switch (command.type) {
    case 'PlaceOrder':
      return placeOrder(command, state);
    case 'ConfirmOrder':
      return confirmOrder(command, state);
    case 'CancelOrder':
      return cancelOrder(command, state);
    default:
      return unreachable(command);
  }
};

export const evolve = (state: OrderState, event: OrderEvent): OrderState => {
  switch (event.type) {
    case 'OrderPlaced':
      return { status: 'pending', ...event.data };
    case 'OrderConfirmed':
      if (state.status !== 'pending') return state;
      return { ...state, status: 'confirmed', paymentId: event.data.paymentId, confirmedAt: event.data.confirmedAt };
    case 'OrderCancelled':
      if (state.status !== 'pending') return state;
      return { ...state, status: 'cancelled', reason: event.data.reason, cancelledAt: event.data.cancelledAt };
    default:
      return unreachable(event);
  }
};

export const orderDecider: Decider<OrderCommand, OrderEvent, OrderState> = { initialState, evolve, decide };
