/** The order decider: stream `order-<orderId>`. */
import type { OrderCancelled, OrderConfirmed, OrderEvent, OrderPlaced } from '../../events/index.js';
import { MAX_MONEY } from '../../events/index.js';
import { DomainError } from '../../platform/errors.js';
import type { Decider } from '../decider.js';
import { unreachable } from '../decider.js';
import type { CancelOrder, CatalogEntry, ConfirmOrder, OrderCommand, PlaceOrder } from './commands.js';
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

/** The largest amount a payment accepts (RequestPayment's `amount`), so the largest order total. */
export const MAX_ORDER_TOTAL = MAX_MONEY;

const catalogEntryOf = (catalog: readonly CatalogEntry[], sku: string): CatalogEntry => {
  const entry = catalog.find((candidate) => candidate.sku === sku);
  if (entry === undefined) throw new DomainError('KEEL_ERR_UNKNOWN_SKU', `No listed product carries SKU "${sku}".`, { sku });
  if (!entry.listed) {
    throw new DomainError('KEEL_ERR_PRODUCT_DELISTED', `The product of SKU "${sku}" has been delisted.`, { sku, productId: entry.productId });
  }
  return entry;
};

/**
 * Prices the order from the catalog entries the write side read from the product streams. A price
 * or currency the customer quoted must be the current one: a price that changed while the customer
 * looked is refused with every current price, so a front end can show them. An order that no
 * payment could settle (a total of 0, or above MAX_ORDER_TOTAL) is refused here, before it holds
 * any stock.
 */
export const placeOrder = ({ data }: PlaceOrder, state: OrderState): OrderPlaced[] => {
  if (state.status !== 'none') {
    throw new DomainError('KEEL_ERR_ORDER_ALREADY_PLACED', undefined, { orderId: data.orderId });
  }
  const priced = data.lines.map((line) => ({ line, entry: catalogEntryOf(data.catalog, line.sku) }));
  const changed = priced.filter(({ line, entry }) => line.unitPrice !== undefined && line.unitPrice !== entry.price);
  if (changed.length > 0) {
    const lines = changed.map(({ line, entry }) => ({ sku: entry.sku, sentPrice: line.unitPrice, currentPrice: entry.price, currency: entry.currency }));
    const [first] = lines;
    const what = lines.map((l) => `${l.sku} costs ${l.currentPrice} ${l.currency} (sent ${l.sentPrice})`).join('; ');
    throw new DomainError('KEEL_ERR_PRICE_CHANGED', `The price changed: ${what}.`, { ...first, lines });
  }
  const currencies = [...new Set(priced.map(({ entry }) => entry.currency))];
  const [currency] = currencies;
  if (currency === undefined || currencies.length > 1) {
    throw new DomainError('KEEL_ERR_CURRENCY_MISMATCH', `The products are priced in ${currencies.join(' and ')}; an order has one currency.`, { currencies });
  }
  if (data.currency !== undefined && data.currency !== currency) {
    throw new DomainError('KEEL_ERR_CURRENCY_MISMATCH', `The products are priced in ${currency}, not ${data.currency}.`, { currency, sentCurrency: data.currency });
  }
  const lines = priced.map(({ line, entry }) => ({ sku: line.sku, quantity: line.quantity, unitPrice: entry.price }));
  const total = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
  if (total < 1 || total > MAX_ORDER_TOTAL) {
    throw new DomainError(
      'KEEL_ERR_ORDER_TOTAL_OUT_OF_RANGE',
      `The order total ${total} ${currency} is outside what a payment accepts (1 to ${MAX_ORDER_TOTAL}).`,
      { total, currency, min: 1, max: MAX_ORDER_TOTAL },
    );
  }
  const { orderId, customerId, now } = data;
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
