/**
 * Subscriptions (graphql-ws at /graphql): each yields the read side's change stream for one topic,
 * which is fed by the projections' pub/sub after the read model commits (so a change made through
 * any API process reaches subscribers on every process). `after` resumes from a consistency token.
 * When the client unsubscribes or disconnects, graphql-js returns the iterator and the stream aborts.
 */
import type { IResolvers, MercuriusContext } from 'mercurius';
import { unauthenticated } from '../auth.js';
import { decodeConsistencyToken } from '../consistency-token.js';
import { toClientError } from './error-formatter.js';
import type { ReadAccess } from './read-access.js';
import { orderVisibleTo } from './queries.js';
import { toAvailability, toOrderDetail } from './views.js';

interface ResumeArgs {
  readonly after?: string | null;
}

/**
 * The source's values through `map`. A hand-written iterator rather than an async generator:
 * graphql-js calls `return()` when the client unsubscribes, and a generator suspended in an
 * `await` would only see it after its next value; here `return()` aborts the source at once.
 */
const mapped = <T, U>(source: (signal: AbortSignal) => AsyncIterable<T>, map: (value: T) => U): AsyncIterableIterator<U> => {
  const controller = new AbortController();
  const inner = source(controller.signal)[Symbol.asyncIterator]();
  const iterator: AsyncIterableIterator<U> = {
    next: async () => {
      const result = await inner.next();
      return result.done === true ? { done: true, value: undefined } : { done: false, value: map(result.value) };
    },
    return: async () => {
      controller.abort();
      await inner.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
};

const resumeFrom = (args: ResumeArgs) =>
  typeof args.after === 'string' ? { after: decodeConsistencyToken(args.after, 'after') } : {};

/**
 * Errors at subscribe time reach the client with their code (mercurius does not format them). A
 * connection whose token failed verification is refused here, per subscription, with
 * UNAUTHENTICATED: refusing it in onConnect would make mercurius send a `connection_error` message
 * that graphql-ws clients cannot parse.
 */
const guarded = async <T>(production: boolean, ctx: MercuriusContext, start: () => Promise<T>): Promise<T> => {
  try {
    const auth = ctx.keel.auth;
    if (auth.kind === 'invalid') throw unauthenticated(auth.reason);
    return await start();
  } catch (error) {
    throw toClientError(error, production);
  }
};

export const subscriptionResolvers = (reads: ReadAccess, production: boolean): IResolvers => ({
  Subscription: {
    orderStatusChanged: {
      subscribe: (_root: unknown, args: ResumeArgs & { readonly orderId: string }, ctx: MercuriusContext) => guarded(production, ctx, async () => {
        const from = resumeFrom(args);
        // Resuming from a token: the order read model must have reached it before we look.
        await reads.consistent(args.after, ['orders'], 'after');
        await orderVisibleTo(reads, args.orderId, ctx);
        const side = reads.side();
        return mapped(
          (signal) => side.orderChanges(args.orderId, { ...from, signal }),
          (order) => ({ orderStatusChanged: toOrderDetail(order) }),
        );
      }),
    },
    availabilityChanged: {
      subscribe: (_root: unknown, args: ResumeArgs & { readonly sku: string }, ctx: MercuriusContext) => guarded(production, ctx, async () => {
        const from = resumeFrom(args);
        const side = reads.side();
        return mapped(
          (signal) => side.availabilityChanges(args.sku, { ...from, signal }),
          (availability) => ({ availabilityChanged: toAvailability(availability) }),
        );
      }),
    },
  },
});
