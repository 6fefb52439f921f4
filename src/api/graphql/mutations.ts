/**
 * Mutation resolvers: check the caller, build the command from `input`, run it through the write
 * side's front door (src/commands/front-door.ts), return the MutationResult fields plus the
 * command's own result (read from the events it appended, so a duplicate answers the same).
 */
import { randomUUID } from 'node:crypto';
import type { IResolvers, MercuriusContext } from 'mercurius';
import { v5 as uuidv5 } from 'uuid';
import { DomainError } from '../../platform/errors.js';
import { requireRole } from '../auth.js';
import type { ApiWriteSide } from '../write-side.js';
import { asMutation, commandInput, requestContextOf, resultFields } from './mutation-result.js';

type Input = Readonly<Record<string, unknown>> & { readonly idempotencyKey?: string | null };
interface Args {
  readonly input: Input;
}

/** Namespace of order ids derived from (customer, idempotency key): a retried checkout reuses its id. */
const ORDER_ID_NAMESPACE = '3b0f7a9e-5c1d-4e0a-9d6f-2f4c8b7a1e55';

const stringOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The data of the result's first event of `type` (a duplicate's events are the stored ones). */
const dataOf = (events: readonly { readonly type: string; readonly data: unknown }[], type: string): Readonly<Record<string, unknown>> => {
  const data = events.find((event) => event.type === type)?.data;
  return typeof data === 'object' && data !== null ? (data as Readonly<Record<string, unknown>>) : {};
};

/** An order the caller may not see is answered as one that does not exist (no probing of ids). */
const orderNotFound = (orderId: string): DomainError => new DomainError('KEEL_ERR_ORDER_NOT_FOUND', `No order "${orderId}" exists.`, { orderId });

/**
 * Each payload answers with what the command recorded (its events; for a duplicate, the stored
 * ones), never with the request's values: a re-sent request learns what was stored.
 */
export const mutationResolvers = (write: ApiWriteSide): IResolvers => {
  const { commerce } = write;
  const requestOf = (ctx: MercuriusContext, mutation: string, input: Input) =>
    requestContextOf(ctx.keel, mutation, requireRole(ctx.keel.auth, mutation, 'admin'), input);

  return {
    Mutation: {
      listProduct: async (_root: unknown, { input }: Args, ctx: MercuriusContext) => {
        const request = requestOf(ctx, 'listProduct', input);
        const result = await asMutation(() => commerce.listProduct(commandInput(input), request));
        const listed = dataOf(result.events, 'ProductListed');
        return { ...resultFields(result), productId: listed.productId, sku: listed.sku };
      },
      changePrice: async (_root: unknown, { input }: Args, ctx: MercuriusContext) => {
        const request = requestOf(ctx, 'changePrice', input);
        const result = await asMutation(() => commerce.changePrice(commandInput(input), request));
        // No event when the price was already that one: the product's state says what it is.
        const changed = dataOf(result.events, 'ProductPriceChanged');
        const price = changed.price ?? (result.state.status === 'unlisted' ? undefined : result.state.price);
        return { ...resultFields(result), productId: stringOf(input.productId), price };
      },
      delistProduct: async (_root: unknown, { input }: Args, ctx: MercuriusContext) => {
        const request = requestOf(ctx, 'delistProduct', input);
        const result = await asMutation(() => commerce.delistProduct(commandInput(input), request));
        return { ...resultFields(result), productId: dataOf(result.events, 'ProductDelisted').productId };
      },
      receiveStock: async (_root: unknown, { input }: Args, ctx: MercuriusContext) => {
        const request = requestOf(ctx, 'receiveStock', input);
        const result = await asMutation(() => commerce.receiveStock(commandInput(input), request));
        const received = dataOf(result.events, 'StockReceived');
        return { ...resultFields(result), sku: received.sku, quantity: received.quantity };
      },
      placeOrder: async (_root: unknown, { input }: Args, ctx: MercuriusContext) => {
        const user = requireRole(ctx.keel.auth, 'placeOrder', 'customer');
        const request = requestContextOf(ctx.keel, 'placeOrder', user, input);
        // Order ids are the server's: random, or derived from (customer, idempotency key) so a
        // retried checkout lands on the same order. A client can neither choose nor squat one.
        const orderId = request.commandId === undefined ? randomUUID() : uuidv5(request.commandId, ORDER_ID_NAMESPACE);
        const data = { ...commandInput(input), orderId, customerId: user.subject };
        const result = await asMutation(() => commerce.placeOrder(data, request));
        const placed = result.events.find((event) => event.type === 'OrderPlaced');
        if (placed?.type !== 'OrderPlaced') throw new Error(`placeOrder ${orderId}: no OrderPlaced event in the result`);
        return {
          ...resultFields(result),
          orderId: placed.data.orderId,
          customerId: placed.data.customerId,
          total: placed.data.total,
          currency: placed.data.currency,
          status: 'PENDING',
        };
      },
      cancelOrder: async (_root: unknown, { input }: Args, ctx: MercuriusContext) => {
        const user = requireRole(ctx.keel.auth, 'cancelOrder', 'customer', 'admin');
        const request = requestContextOf(ctx.keel, 'cancelOrder', user, input);
        const orderId = stringOf(input.orderId) ?? '';
        if (!user.roles.has('admin')) {
          // Checked on the write side: the order stream says who placed it. Another customer's
          // order is answered like one that does not exist.
          const owner = await write.orderOwner(orderId);
          if (owner !== undefined && owner !== user.subject) throw orderNotFound(orderId);
        }
        const result = await asMutation(() => commerce.cancelOrder(commandInput(input), request));
        return { ...resultFields(result), orderId: dataOf(result.events, 'OrderCancelled').orderId ?? orderId, status: 'CANCELLED' };
      },
      recordPaymentOutcome: async (_root: unknown, { input }: Args, ctx: MercuriusContext) => {
        const user = requireRole(ctx.keel.auth, 'recordPaymentOutcome', 'payment-provider');
        const paymentId = stringOf(input.paymentId) ?? '';
        const outcome = stringOf(input.outcome);
        // A provider that repeats a callback without a key repeats the same outcome: that is a duplicate too.
        const derived = /^[A-Za-z0-9_-]{1,50}$/.test(paymentId) ? `${paymentId}.${outcome ?? ''}` : undefined;
        const request = requestContextOf(ctx.keel, 'recordPaymentOutcome', user, input, derived);
        const { outcome: _outcome, ...fields } = commandInput(input);
        const result = await asMutation(() =>
          outcome === 'AUTHORIZED'
            ? commerce.authorizePayment({ paymentId, authorizationCode: fields.authorizationCode }, request)
            : commerce.failPayment({ paymentId, reason: fields.reason }, request),
        );
        const failed = result.events.some((event) => event.type === 'PaymentFailed');
        return { ...resultFields(result), paymentId, status: failed ? 'FAILED' : 'AUTHORIZED' };
      },
    },
  };
};
