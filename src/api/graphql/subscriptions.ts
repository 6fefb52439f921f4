/**
 * Subscriptions (graphql-ws at /graphql): each yields the read side's change stream for one topic,
 * which is fed by the projections' pub/sub after the read model commits (so a change made through
 * any API process reaches subscribers on every process). `after` resumes from a consistency token.
 * When the client unsubscribes or disconnects, graphql-js returns the iterator and the stream aborts.
 * Each subscription holds one of its socket's slots while it runs (ws-edge.ts).
 */
import type { IResolvers, MercuriusContext } from 'mercurius';
import { unauthenticated } from '../auth.js';
import { decodeConsistencyToken } from '../consistency-token.js';
import { subscriptionError } from './error-formatter.js';
import type { ReadAccess } from './read-access.js';
import { orderVisibleTo } from './queries.js';
import { toAvailability, toOrderDetail } from './views.js';
import type { SubscriptionHold } from './ws-edge.js';

interface ResumeArgs {
  readonly after?: string | null;
}

/** What a subscription pushes: its read side's change stream, each value through `map`. */
interface Feed<T, U> {
  readonly source: (signal: AbortSignal) => AsyncIterable<T>;
  readonly map: (value: T) => U;
}

/** How a running subscription ends: its slot is freed; an error becomes the client's (logged). */
interface Supervision {
  readonly release: () => void;
  readonly fail: (error: unknown) => Error;
}

/**
 * The source's values through `map`. A hand-written iterator rather than an async generator:
 * graphql-js calls `return()` when the client unsubscribes, and a generator suspended in an
 * `await` would only see it after its next value; here `return()` aborts the source at once.
 * However it ends (returned, done, failed) its slot is freed; an error of the source or of `map`
 * reaches the client coded and masked like one over HTTP, and the log with its stack
 * (mercurius would send it raw, unlogged).
 */
const mapped = <T, U>({ source, map }: Feed<T, U>, { release, fail }: Supervision): AsyncIterableIterator<U> => {
  const controller = new AbortController();
  const inner = source(controller.signal)[Symbol.asyncIterator]();
  const stop = async (): Promise<void> => {
    release();
    controller.abort();
    await inner.return?.();
  };
  const iterator: AsyncIterableIterator<U> = {
    next: async () => {
      try {
        const result = await inner.next();
        if (result.done === true) {
          release();
          return { done: true, value: undefined };
        }
        return { done: false, value: map(result.value) };
      } catch (error) {
        // Ended by `return()` (the client left): whatever the source threw then is no error.
        const stopped = controller.signal.aborted;
        await stop().catch(() => undefined);
        if (stopped) return { done: true, value: undefined };
        throw fail(error);
      }
    },
    return: async () => {
      await stop();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
};

const resumeFrom = (args: ResumeArgs) =>
  typeof args.after === 'string' ? { after: decodeConsistencyToken(args.after, 'after') } : {};

const NO_HOLD: SubscriptionHold = { release: () => undefined };

/**
 * Errors at subscribe time reach the client with their code (mercurius does not format them) and
 * the log as a request's would. The socket's bearer header is verified again for each new
 * subscription (UNAUTHENTICATED once the token expired or is refused: refusing a bad token in
 * connection_init would make mercurius send a `connection_error` message that graphql-ws clients
 * cannot parse), and the subscription takes one of its socket's slots (ws-edge.ts).
 */
const guarded = async <T, U>(production: boolean, ctx: MercuriusContext, start: () => Promise<Feed<T, U>>): Promise<AsyncIterableIterator<U>> => {
  const request = ctx.reply.request;
  const fail = (error: unknown): Error => subscriptionError(error, production, request.log, request.id);
  let hold = NO_HOLD;
  try {
    const auth = ctx.keel.auth;
    if (auth.kind === 'invalid') throw unauthenticated(auth.reason);
    hold = ctx.keelSocket?.begin() ?? NO_HOLD;
    return mapped(await start(), { release: hold.release, fail });
  } catch (error) {
    hold.release();
    throw fail(error);
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
        return {
          source: (signal: AbortSignal) => side.orderChanges(args.orderId, { ...from, signal }),
          map: (order: Parameters<typeof toOrderDetail>[0]) => ({ orderStatusChanged: toOrderDetail(order) }),
        };
      }),
    },
    availabilityChanged: {
      subscribe: (_root: unknown, args: ResumeArgs & { readonly sku: string }, ctx: MercuriusContext) => guarded(production, ctx, async () => {
        const from = resumeFrom(args);
        const side = reads.side();
        return {
          source: (signal: AbortSignal) => side.availabilityChanges(args.sku, { ...from, signal }),
          map: (availability: Parameters<typeof toAvailability>[0]) => ({ availabilityChanged: toAvailability(availability) }),
        };
      }),
    },
  },
});
