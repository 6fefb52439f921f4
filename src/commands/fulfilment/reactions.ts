/**
 * Order fulfilment, one reaction per event: order placed → reserve every line → request payment →
 * confirm the order and commit the reservations; or cancel and release on a refused reservation, a
 * failed payment or an expired order. Every step is a command whose id derives from the event that
 * caused it, so running a reaction twice (after a crash, before the checkpoint moved) writes nothing
 * new, and the provider is called with the payment id as its idempotency key.
 */
import type { RecordedEvent } from '../../eventstore/port.js';
import { parseEventOf, type OrderEvent, type PaymentEvent } from '../../events/index.js';
import { DomainError, isKeelError, type ErrorCode } from '../../platform/errors.js';
import type { Span } from '../../platform/tracing.js';
import { orderAggregate, paymentAggregate } from '../aggregates.js';
import type { CommerceCommands, RequestContext } from '../front-door.js';
import type { CommandHandler } from '../handler/command-handler.js';
import { orderStreamId } from '../order/index.js';
import type { PaymentProvider } from '../payment/index.js';
import { paymentStreamId } from '../payment/index.js';
import { addDeadline, removeDeadline, type FulfilmentDb } from './store.js';

export const FULFILMENT_EVENT_TYPES = [
  'OrderPlaced',
  'OrderConfirmed',
  'OrderCancelled',
  'PaymentRequested',
  'PaymentAuthorized',
  'PaymentFailed',
] as const;
type FulfilmentEvent = Extract<OrderEvent | PaymentEvent, { type: (typeof FULFILMENT_EVENT_TYPES)[number] }>;

export interface FulfilmentDeps {
  readonly commerce: CommerceCommands;
  readonly handler: CommandHandler;
  readonly provider: PaymentProvider;
  readonly db: FulfilmentDb;
  readonly clock: () => Date;
  readonly reservationTtlMs: number;
  /** Aborted on shutdown: a provider call in flight is abandoned (and made again on the next start). */
  readonly signal?: AbortSignal;
}

const ACTOR = 'process:order-fulfilment';

/**
 * Runs a step, ignoring a refusal with one of `codes` (the step is done already or no longer
 * applies): that refusal is returned instead of thrown; any other error is thrown.
 */
const ignoringRefusals = async <T>(codes: readonly ErrorCode[], step: Promise<T>): Promise<T | DomainError> => {
  try {
    return await step;
  } catch (error) {
    if (error instanceof DomainError && codes.includes(error.code)) return error;
    throw error;
  }
};
const NOT_PENDING: readonly ErrorCode[] = ['KEEL_ERR_ORDER_NOT_PENDING', 'KEEL_ERR_ORDER_ALREADY_CANCELLED'];
const PAYMENT_SETTLED: readonly ErrorCode[] = ['KEEL_ERR_PAYMENT_INVALID_STATE', 'KEEL_ERR_PAYMENT_ALREADY_REQUESTED'];

/**
 * Reactions with the same key run one at a time: the order id every fulfilment event carries. The
 * payment provider call gets a key of its own, so a slow provider never holds up that order's
 * cancellation or expiry (the reaction to the late answer copes with a cancelled order).
 */
const orderIdOf = (event: RecordedEvent): string | undefined => {
  const data = event.data;
  return typeof data === 'object' && data !== null && 'orderId' in data && typeof data.orderId === 'string' ? data.orderId : undefined;
};

export const sequenceKeyOf = (event: RecordedEvent): string => {
  const orderId = orderIdOf(event) ?? event.streamId;
  return event.type === 'PaymentRequested' ? `provider-call:${orderId}` : orderId;
};

/**
 * The context of the commands a reaction to `recorded` sends: their ids derive from the event's;
 * with tracing on, their spans are children of the reaction's (`parentSpan`).
 */
const requestFor = (deps: FulfilmentDeps, recorded: RecordedEvent, parentSpan?: Span): RequestContext => {
  const correlationId = typeof recorded.metadata.correlationId === 'string' ? recorded.metadata.correlationId : recorded.id;
  // Decisions use the time of the event, not the wall clock, so a reaction that runs again after a
  // crash decides exactly as it did the first time.
  const eventTime = typeof recorded.metadata.timestamp === 'string' ? recorded.metadata.timestamp : deps.clock().toISOString();
  return { actor: ACTOR, now: eventTime, commandId: recorded.id, correlationId, causationId: recorded.id, ...(parentSpan === undefined ? {} : { parentSpan }) };
};

/**
 * A step of `recorded`'s reaction was refused for good (or failed past its retries): the order
 * must not stay pending holding stock until its reservation expires. It is cancelled now with the
 * reason, and the OrderCancelled reaction releases its stock and refunds what was paid. An order
 * no longer pending (already confirmed or cancelled) is left as it is.
 */
export const cancelAfterFailedStep = async (deps: FulfilmentDeps, recorded: RecordedEvent, failure: unknown): Promise<boolean> => {
  const orderId = orderIdOf(recorded);
  if (orderId === undefined || recorded.type === 'OrderCancelled') return false;
  const why = isKeelError(failure) ? failure.code : 'an unexpected error';
  const reason = `fulfilment step after ${recorded.type} refused: ${why}`;
  const cancelled = await ignoringRefusals(
    [...NOT_PENDING, 'KEEL_ERR_ORDER_NOT_FOUND'],
    deps.commerce.cancelOrder({ orderId, reason }, requestFor(deps, recorded), 'cancel-after-failed-step'),
  );
  return !(cancelled instanceof DomainError);
};

export const react = async (deps: FulfilmentDeps, recorded: RecordedEvent, span?: Span): Promise<void> => {
  const event: FulfilmentEvent = parseEventOf(FULFILMENT_EVENT_TYPES, recorded);
  const request = requestFor(deps, recorded, span);
  switch (event.type) {
    case 'OrderPlaced':
      return onOrderPlaced(deps, event.data, request);
    case 'PaymentRequested':
      return onPaymentRequested(deps, event.data, request);
    case 'PaymentAuthorized':
      return onPaymentAuthorized(deps, event.data, request);
    case 'PaymentFailed':
      await ignoringRefusals(NOT_PENDING, deps.commerce.cancelOrder({ orderId: event.data.orderId, reason: `payment failed: ${event.data.reason}` }, request, 'cancel'));
      return;
    case 'OrderCancelled':
      return onOrderCancelled(deps, event.data.orderId, request);
    case 'OrderConfirmed':
      return removeDeadline(deps.db, event.data.orderId);
  }
};

type DataOf<T extends FulfilmentEvent['type']> = Extract<FulfilmentEvent, { type: T }>['data'];

const onOrderPlaced = async (deps: FulfilmentDeps, order: DataOf<'OrderPlaced'>, request: RequestContext) => {
  const { orderId } = order;
  const expiresAt = new Date(Date.parse(order.placedAt) + deps.reservationTtlMs);
  // If fulfilment was down for longer than the TTL, the sweeper cancels the order on its next pass.
  await addDeadline(deps.db, orderId, expiresAt);
  const reservations = await Promise.allSettled(
    order.lines.map(({ sku, quantity }) =>
      deps.commerce.reserveStock({ sku, orderId, quantity, expiresAt: expiresAt.toISOString() }, request, `reserve:${sku}`),
    ),
  );
  const failures = reservations.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
  const unexpected = failures.find((reason) => !(reason instanceof DomainError));
  if (unexpected !== undefined) throw unexpected;
  const refused = failures.find((reason): reason is DomainError => reason instanceof DomainError);
  if (refused) {
    const sku = typeof refused.details.sku === 'string' ? ` (${refused.details.sku})` : '';
    await ignoringRefusals(NOT_PENDING, deps.commerce.cancelOrder({ orderId, reason: `${refused.code}${sku}` }, request, 'cancel'));
    return;
  }
  // An order cancelled while its stock was being reserved (or before a replay) is not charged.
  const { state: now } = await deps.handler.load(orderAggregate, orderStreamId(orderId));
  if (now.status !== 'pending') return;
  const payment = { paymentId: orderId, orderId, amount: order.total, currency: order.currency };
  await ignoringRefusals(PAYMENT_SETTLED, deps.commerce.requestPayment(payment, request, 'request-payment'));
};

const onPaymentRequested = async (deps: FulfilmentDeps, payment: DataOf<'PaymentRequested'>, request: RequestContext) => {
  const { paymentId, orderId, amount, currency } = payment;
  const answer = await deps.provider.authorize({ paymentId, orderId, amount, currency, idempotencyKey: paymentId }, deps.signal);
  const settled = { ...request, now: deps.clock().toISOString() };
  await ignoringRefusals(
    PAYMENT_SETTLED,
    answer.status === 'authorized'
      ? deps.commerce.authorizePayment({ paymentId, authorizationCode: answer.authorizationCode }, settled, 'authorize')
      : deps.commerce.failPayment({ paymentId, reason: answer.reason }, settled, 'fail'),
  );
};

const onPaymentAuthorized = async (deps: FulfilmentDeps, payment: DataOf<'PaymentAuthorized'>, request: RequestContext) => {
  const { orderId, paymentId } = payment;
  const { state: order } = await deps.handler.load(orderAggregate, orderStreamId(orderId), { fresh: true });
  if (order.status === 'none') throw new Error(`Payment ${paymentId} authorized for unknown order ${orderId}`);
  const expired = Date.parse(request.now) > Date.parse(order.placedAt) + deps.reservationTtlMs;
  if (expired && order.status === 'pending') {
    await ignoringRefusals(NOT_PENDING, deps.commerce.cancelOrder({ orderId, reason: 'reservation expired before payment' }, request, 'cancel'));
  }
  const confirmed = expired
    ? undefined
    : await ignoringRefusals(NOT_PENDING, deps.commerce.confirmOrder({ orderId, paymentId }, request, 'confirm'));
  if (confirmed === undefined || confirmed instanceof DomainError) {
    await refundAll(deps, paymentId, 'order not confirmed', request);
    return;
  }
  for (const { sku } of order.lines) {
    await ignoringRefusals(['KEEL_ERR_RESERVATION_NOT_FOUND'], deps.commerce.commitStock({ sku, orderId }, request, `commit:${sku}`));
  }
};

const onOrderCancelled = async (deps: FulfilmentDeps, orderId: string, request: RequestContext) => {
  const { state: order } = await deps.handler.load(orderAggregate, orderStreamId(orderId));
  if (order.status !== 'none') {
    for (const { sku } of order.lines) {
      const release = { sku, orderId, reason: 'order cancelled' };
      await ignoringRefusals(['KEEL_ERR_RESERVATION_NOT_FOUND'], deps.commerce.releaseStock(release, request, `release:${sku}`));
    }
  }
  await refundAll(deps, orderId, 'order cancelled', request);
  await removeDeadline(deps.db, orderId);
};

/** Refunds what is left of an authorized payment; nothing when there is none. */
const refundAll = async (deps: FulfilmentDeps, paymentId: string, reason: string, request: RequestContext) => {
  // Fresh: the payment may have been authorized by another process (a provider callback).
  const { state: payment } = await deps.handler.load(paymentAggregate, paymentStreamId(paymentId), { fresh: true });
  if (payment.status !== 'authorized') return;
  const amount = payment.amount - payment.refunded;
  if (amount <= 0) return;
  await ignoringRefusals(PAYMENT_SETTLED, deps.commerce.refundPayment({ paymentId, amount, reason }, request, 'refund'));
};
