/**
 * Mutation resolvers: check the caller, build the command from `input`, run it through the write
 * side's front door (src/commands/commerce.ts), return the MutationResult fields plus the
 * command's own result (read from the events it appended, so a duplicate answers the same).
 */
import { randomUUID } from 'node:crypto';
import type { IResolvers, MercuriusContext } from 'mercurius';
import { v5 as uuidv5 } from 'uuid';
import { forbidden, requireRole } from '../auth.js';
import type { ApiWriteSide } from '../write-side.js';
import { asMutation, commandInput, requestContextOf, resultFields } from './mutation-result.js';

type Input = Readonly<Record<string, unknown>> & { readonly idempotencyKey?: string | null };
interface Args {
  readonly input: Input;
}

/** Namespace of order ids derived from (customer, idempotency key): a retried checkout reuses its id. */
const ORDER_ID_NAMESPACE = '3b0f7a9e-5c1d-4e0a-9d6f-2f4c8b7a1e55';

const stringOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export const mutationResolvers = (write: ApiWriteSide): IResolvers => {
  const { commerce } = write;
  const requestOf = (ctx: MercuriusContext, mutation: string, input: Input) =>
    requestContextOf(ctx.keel, mutation, requireRole(ctx.keel.auth, mutation, 'admin'), input.idempotencyKey);

  return {
    Mutation: {
      listProduct: async (_root: unknown, { input }: Args, ctx: MercuriusContext) => {
        const request = requestOf(ctx, 'listProduct', input);
        const result = await asMutation(() => commerce.listProduct(commandInput(input), request));
        return { ...resultFields(result), productId: input.productId, sku: input.sku };
      },
      changePrice: async (_root: unknown, { input }: Args, ctx: MercuriusContext) => {
        const request = requestOf(ctx, 'changePrice', input);
        const result = await asMutation(() => commerce.changePrice(commandInput(input), request));
        return { ...resultFields(result), productId: input.productId, price: input.price };
      },
      delistProduct: async (_root: unknown, { input }: Args, ctx: MercuriusContext) => {
        const request = requestOf(ctx, 'delistProduct', input);
        const result = await asMutation(() => commerce.delistProduct(commandInput(input), request));
        return { ...resultFields(result), productId: input.productId };
      },
      receiveStock: async (_root: unknown, { input }: Args, ctx: MercuriusContext) => {
        const request = requestOf(ctx, 'receiveStock', input);
        const result = await asMutation(() => commerce.receiveStock(commandInput(input), request));
        return { ...resultFields(result), sku: input.sku, quantity: input.quantity };
      },
      placeOrder: async (_root: unknown, { input }: Args, ctx: MercuriusContext) => {
        const user = requireRole(ctx.keel.auth, 'placeOrder', 'customer');
        const request = requestContextOf(ctx.keel, 'placeOrder', user, input.idempotencyKey);
        const orderId = stringOf(input.orderId)
          ?? (request.commandId === undefined ? randomUUID() : uuidv5(request.commandId, ORDER_ID_NAMESPACE));
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
        const request = requestContextOf(ctx.keel, 'cancelOrder', user, input.idempotencyKey);
        const orderId = stringOf(input.orderId) ?? '';
        if (!user.roles.has('admin')) {
          // Checked on the write side: the order stream says who placed it.
          const owner = await write.orderOwner(orderId);
          if (owner !== undefined && owner !== user.subject) throw forbidden('cancelOrder', 'the order belongs to another customer');
        }
        const result = await asMutation(() => commerce.cancelOrder(commandInput(input), request));
        return { ...resultFields(result), orderId, status: 'CANCELLED' };
      },
      recordPaymentOutcome: async (_root: unknown, { input }: Args, ctx: MercuriusContext) => {
        const user = requireRole(ctx.keel.auth, 'recordPaymentOutcome', 'payment-provider');
        const paymentId = stringOf(input.paymentId) ?? '';
        const outcome = stringOf(input.outcome);
        // A provider that repeats a callback without a key repeats the same outcome: that is a duplicate too.
        const key = input.idempotencyKey ?? (/^[A-Za-z0-9_-]{1,50}$/.test(paymentId) ? `${paymentId}.${outcome ?? ''}` : undefined);
        const request = requestContextOf(ctx.keel, 'recordPaymentOutcome', user, key);
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
