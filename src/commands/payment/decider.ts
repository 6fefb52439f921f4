/** The payment decider: stream `payment-<paymentId>`. */
import type {
  PaymentAuthorized,
  PaymentEvent,
  PaymentFailed,
  PaymentRefunded,
  PaymentRequested,
} from '../../events/index.js';
import { DomainError } from '../../platform/errors.js';
import type { Decider } from '../decider.js';
import { unreachable } from '../decider.js';
import type { AuthorizePayment, FailPayment, PaymentCommand, RefundPayment, RequestPayment } from './commands.js';
import type { PaymentState, RequestedPayment } from './state.js';

export const PAYMENT_STREAM_PREFIX = 'payment-';
export const paymentStreamId = (paymentId: string): string => `${PAYMENT_STREAM_PREFIX}${paymentId}`;

export const initialState = (): PaymentState => ({ status: 'none' });

type Status = PaymentState['status'];

/** The payment, when its status is one of `allowed`; otherwise NOT_FOUND or INVALID_STATE. */
const requireStatus = <S extends Exclude<Status, 'none'>>(
  state: PaymentState,
  paymentId: string,
  operation: string,
  allowed: readonly S[],
): Extract<PaymentState, { status: S }> => {
  if (state.status === 'none') throw new DomainError('KEEL_ERR_PAYMENT_NOT_FOUND', undefined, { paymentId });
  const isAllowed = (s: PaymentState): s is Extract<PaymentState, { status: S }> =>
    allowed.some((status) => status === s.status);
  if (isAllowed(state)) return state;
  throw new DomainError('KEEL_ERR_PAYMENT_INVALID_STATE', `Cannot ${operation} a payment that is ${state.status}.`, {
    paymentId,
    status: state.status,
    operation,
  });
};

export const requestPayment = ({ data }: RequestPayment, state: PaymentState): PaymentRequested[] => {
  if (state.status !== 'none') {
    throw new DomainError('KEEL_ERR_PAYMENT_ALREADY_REQUESTED', undefined, { paymentId: data.paymentId });
  }
  const { paymentId, orderId, amount, currency, now } = data;
  return [{ type: 'PaymentRequested', data: { paymentId, orderId, amount, currency, requestedAt: now } }];
};

export const authorizePayment = ({ data }: AuthorizePayment, state: PaymentState): PaymentAuthorized[] => {
  const requested: RequestedPayment = requireStatus(state, data.paymentId, 'authorize', ['requested']);
  const { orderId, amount, currency } = requested;
  const { paymentId, authorizationCode, now } = data;
  return [
    {
      type: 'PaymentAuthorized',
      data: { paymentId, orderId, amount, currency, authorizationCode, authorizedAt: now },
    },
  ];
};

export const failPayment = ({ data }: FailPayment, state: PaymentState): PaymentFailed[] => {
  const { orderId } = requireStatus(state, data.paymentId, 'fail', ['requested']);
  const { paymentId, reason, now } = data;
  return [{ type: 'PaymentFailed', data: { paymentId, orderId, reason, failedAt: now } }];
};

/** Only after authorization, and never more in total than was authorized. */
export const refundPayment = ({ data }: RefundPayment, state: PaymentState): PaymentRefunded[] => {
  const payment = requireStatus(state, data.paymentId, 'refund', ['authorized']);
  const refundable = payment.amount - payment.refunded;
  if (data.amount > refundable) {
    throw new DomainError('KEEL_ERR_PAYMENT_REFUND_EXCEEDS_AUTHORIZED', undefined, {
      paymentId: data.paymentId,
      requested: data.amount,
      refundable,
    });
  }
  const { paymentId, amount, reason, now } = data;
  return [
    {
      type: 'PaymentRefunded',
      data: { paymentId, orderId: payment.orderId, amount, currency: payment.currency, reason, refundedAt: now },
    },
  ];
};

export const decide = (command: PaymentCommand, state: PaymentState): PaymentEvent[] => {
  switch (command.type) {
    case 'RequestPayment':
      return requestPayment(command, state);
    case 'AuthorizePayment':
      return authorizePayment(command, state);
    case 'FailPayment':
      return failPayment(command, state);
    case 'RefundPayment':
      return refundPayment(command, state);
    default:
      return unreachable(command);
  }
};

export const evolve = (state: PaymentState, event: PaymentEvent): PaymentState => {
  switch (event.type) {
    case 'PaymentRequested': {
      const { paymentId, orderId, amount, currency, requestedAt } = event.data;
      return { status: 'requested', paymentId, orderId, amount, currency, requestedAt };
    }
    case 'PaymentAuthorized': {
      if (state.status !== 'requested') return state;
      const { authorizationCode, authorizedAt } = event.data;
      return { ...state, status: 'authorized', authorizationCode, authorizedAt, refunded: 0 };
    }
    case 'PaymentFailed':
      if (state.status !== 'requested') return state;
      return { ...state, status: 'failed', reason: event.data.reason, failedAt: event.data.failedAt };
    case 'PaymentRefunded': {
      if (state.status !== 'authorized') return state;
      const refunded = state.refunded + event.data.amount;
      return { ...state, status: refunded >= state.amount ? 'refunded' : 'authorized', refunded };
    }
    default:
      return unreachable(event);
  }
};

export const paymentDecider: Decider<PaymentCommand, PaymentEvent, PaymentState> = {
  initialState,
  evolve,
  decide,
};
