/**
 * The one line that ends a story: why the subject is in its state, naming the event that put it
 * there and where it sits in the log, e.g. "cancelled: payment declined: card expired (PaymentFailed
 * at position 1432)".
 */
import type { EventView } from './event-view.js';
import { textField } from './plain.js';

export interface Verdict {
  /** The subject's status (`confirmed`, `cancelled`, `pending`, …; `tracked` for a SKU). */
  readonly status: string;
  readonly text: string;
  /** The event the verdict names. */
  readonly cause?: EventView;
}

const at = (event: EventView): string => `${event.type} at position ${event.position}`;

const last = (events: readonly EventView[], type: string, where: (e: EventView) => boolean = () => true): EventView | undefined =>
  [...events].reverse().find((e) => e.type === type && where(e));

const cancelledVerdict = (orderId: string, state: unknown, events: readonly EventView[]): Verdict => {
  const reason = textField(state, 'reason') ?? '';
  const cancelled = last(events, 'OrderCancelled');
  const cause = cancelled?.causationId === undefined ? undefined : events.find((e) => e.id === cancelled.causationId);
  const ofOrder = (e: EventView) => textField(e.data, 'orderId') === orderId;
  if (reason.startsWith('payment failed')) {
    const failed = last(events, 'PaymentFailed', ofOrder) ?? cause;
    const why = textField(failed?.data, 'reason') ?? reason.replace(/^payment failed:\s*/, '');
    return { status: 'cancelled', text: `cancelled: payment declined: ${why}${failed ? ` (${at(failed)})` : ''}`, ...(failed ? { cause: failed } : {}) };
  }
  if (reason === 'expired') {
    const reserved = last(events, 'StockReserved', ofOrder);
    const deadline = textField(reserved?.data, 'expiresAt');
    const requested = last(events, 'PaymentRequested', ofOrder);
    const waiting = requested ? 'while the payment was still pending' : 'before payment was requested';
    const refunded = cancelled === undefined ? undefined : last(events, 'PaymentRefunded', (e) => ofOrder(e) && e.position > cancelled.position);
    const late = refunded ? `; the payment authorized too late was refunded (${at(refunded)})` : '';
    const base = `cancelled: the reservation deadline${deadline ? ` ${deadline}` : ''} passed ${waiting}`;
    return { status: 'cancelled', text: `${base}${cancelled ? ` (${at(cancelled)})` : ''}${late}`, ...(cancelled ? { cause: cancelled } : {}) };
  }
  const stock = /^KEEL_ERR_OUT_OF_STOCK(?: \((.+)\))?/.exec(reason);
  if (stock) {
    const sku = stock[1];
    const trigger = cause ?? cancelled;
    return {
      status: 'cancelled',
      text: `cancelled: out of stock${sku ? ` on ${sku}` : ''}: its reservation was refused${trigger ? ` (in reaction to ${at(trigger)})` : ''}`,
      ...(trigger ? { cause: trigger } : {}),
    };
  }
  const step = /^fulfilment step after (\w+) refused: (\S+)/.exec(reason);
  if (step) {
    const trigger = cause ?? cancelled;
    return { status: 'cancelled', text: `cancelled: a fulfilment step after ${step[1]} failed with ${step[2]}${trigger ? ` (${at(trigger)})` : ''}`, ...(trigger ? { cause: trigger } : {}) };
  }
  const by = cancelled?.actor === undefined ? '' : ` by ${cancelled.actor}`;
  return { status: 'cancelled', text: `cancelled${by}: ${reason || 'no reason given'}${cancelled ? ` (${at(cancelled)})` : ''}`, ...(cancelled ? { cause: cancelled } : {}) };
};

const orderVerdict = (orderId: string, state: unknown, events: readonly EventView[]): Verdict => {
  const status = textField(state, 'status') ?? 'none';
  const ofOrder = (e: EventView) => textField(e.data, 'orderId') === orderId;
  if (status === 'cancelled') return cancelledVerdict(orderId, state, events);
  if (status === 'confirmed') {
    const authorized = last(events, 'PaymentAuthorized', ofOrder) ?? last(events, 'OrderConfirmed');
    const lines = Array.isArray((state as { lines?: unknown }).lines) ? (state as { lines: unknown[] }).lines.length : 0;
    const committed = events.filter((e) => e.type === 'StockCommitted' && ofOrder(e)).length;
    return {
      status,
      text: `confirmed: payment authorized${authorized ? ` (${at(authorized)})` : ''}; stock committed for ${committed} of ${lines} line(s)`,
      ...(authorized ? { cause: authorized } : {}),
    };
  }
  if (status === 'pending') {
    const requested = last(events, 'PaymentRequested', ofOrder);
    const reserved = events.filter((e) => e.type === 'StockReserved' && ofOrder(e));
    const deadline = textField(reserved[reserved.length - 1]?.data, 'expiresAt');
    const until = deadline ? `; the reservation expires at ${deadline}` : '';
    if (requested) return { status, text: `pending: waiting for the payment provider (${at(requested)})${until}`, cause: requested };
    const placed = last(events, 'OrderPlaced');
    return {
      status,
      text: `pending: ${reserved.length} stock reservation(s) so far, payment not yet requested${placed ? ` (${at(placed)})` : ''}${until}`,
      ...(placed ? { cause: placed } : {}),
    };
  }
  return { status, text: `${status}: the order stream holds no placement` };
};

const streamVerdict = (streamId: string, state: unknown, events: readonly EventView[]): Verdict => {
  const status = textField(state, 'status') ?? 'unknown';
  const own = [...events].reverse().find((e) => e.streamId === streamId);
  const by = own?.actor === undefined ? '' : ` by ${own.actor}`;
  return { status, text: `${status}: last changed by ${own ? at(own) : 'no event'}${by}`, ...(own ? { cause: own } : {}) };
};

export const verdictOf = (subject: { readonly kind: 'order' | 'stream'; readonly id: string; readonly streamId: string }, state: unknown, events: readonly EventView[]): Verdict =>
  subject.kind === 'order' ? orderVerdict(subject.id, state, events) : streamVerdict(subject.streamId, state, events);
