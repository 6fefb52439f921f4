/**
 * The write side's front door: one method per business command. Each validates untrusted input
 * (size, shape) before anything is appended, builds the command with the caller's `now`, and runs
 * it through the command handler. The GraphQL mutations and the process manager call these.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { DomainError, ValidationError } from '../platform/errors.js';
import type { Span } from '../platform/tracing.js';
import { parseCommand } from './decider.js';
import { inventoryAggregate, orderAggregate, paymentAggregate, productAggregate } from './aggregates.js';
import type { CommandHandler } from './handler/command-handler.js';
import type { Aggregate, CommandContext, CommandResult, DomainEventShape } from './handler/types.js';
import { inventoryStreamId, parseInventoryCommand } from './inventory/index.js';
import { orderStreamId, parseOrderCommand, placeOrderInputSchema } from './order/index.js';
import type { CatalogEntry } from './order/index.js';
import { parsePaymentCommand, paymentStreamId } from './payment/index.js';
import { listProductSchema, parseProductCommand, productStreamId } from './product/index.js';

/** Largest accepted command input, as JSON. */
export const MAX_COMMAND_BYTES = 64 * 1024;
const MAX_COMMAND_ID_LENGTH = 128;

/** What the edge knows about a request. `commandId` is the client's idempotency key, if it sent one. */
export interface RequestContext {
  readonly actor: string;
  /** ISO-8601; the edge reads the clock, nothing below does. */
  readonly now: string;
  readonly commandId?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  /** Digest of the client's request, given with `commandId` (see CommandContext.fingerprint). */
  readonly fingerprint?: string;
  /** The span the command continues (see CommandContext.parentSpan). */
  readonly parentSpan?: Span;
}

type Input = Readonly<Record<string, unknown>>;

/** The customer's part of PlaceOrder, validated before the catalog is read (fields named `data.…`). */
const placeOrderInputCommand = z.object({ data: placeOrderInputSchema });

export const toCommandContext = (request: RequestContext, suffix?: string): CommandContext => {
  const base = request.commandId ?? randomUUID();
  if (base.length === 0 || base.length > MAX_COMMAND_ID_LENGTH) {
    throw new ValidationError('commandId', `must be 1 to ${MAX_COMMAND_ID_LENGTH} characters`);
  }
  return {
    commandId: suffix === undefined ? base : `${base}:${suffix}`,
    actor: request.actor,
    now: request.now,
    ...(request.correlationId === undefined ? {} : { correlationId: request.correlationId }),
    ...(request.causationId === undefined ? {} : { causationId: request.causationId }),
    ...(request.fingerprint === undefined || request.commandId === undefined ? {} : { fingerprint: request.fingerprint }),
    ...(request.parentSpan === undefined ? {} : { parentSpan: request.parentSpan }),
  };
};

const checkSize = (input: unknown): void => {
  const bytes = Buffer.byteLength(JSON.stringify(input ?? null), 'utf8');
  if (bytes > MAX_COMMAND_BYTES) {
    throw new ValidationError('(input)', `is ${bytes} bytes; the limit is ${MAX_COMMAND_BYTES}`, 'KEEL_ERR_PAYLOAD_TOO_LARGE');
  }
};

const stringField = (input: Input, field: string): string => {
  const value = input[field];
  if (typeof value !== 'string') throw new ValidationError(`data.${field}`, 'must be a string');
  return value;
};

export type CommerceCommands = ReturnType<typeof createCommerceCommands>;

/** Where one aggregate's commands go: its decider, the parser of its commands, and its stream. */
interface Route<C, E extends DomainEventShape, S> {
  readonly aggregate: Aggregate<C, E, S>;
  readonly parse: (input: unknown) => C;
  readonly streamOf: (input: Input) => string;
}

/**
 * A business command of `type` along `route`: checks the input's size (unless the composite
 * command that sends it checked its caller's input already), parses it with the caller's `now`,
 * and hands it to the command handler. `suffix` tells apart several commands one request (or one
 * event of a process manager) sends.
 */
type Send<E extends DomainEventShape, S> = (input: Input, request: RequestContext, suffix?: string) => Promise<CommandResult<E, S>>;

export const createCommerceCommands = (handler: CommandHandler) => {
  const sender =
    <C, E extends DomainEventShape, S>(route: Route<C, E, S>) =>
    (type: string, sizeChecked = false): Send<E, S> =>
    async (input, request, suffix) => {
      if (!sizeChecked) checkSize(input);
      const command = route.parse({ type, data: { ...input, now: request.now } });
      return handler.handle(route.aggregate, route.streamOf(input), command, toCommandContext(request, suffix));
    };
  const toProduct = sender({ aggregate: productAggregate, parse: parseProductCommand, streamOf: (input) => productStreamId(stringField(input, 'productId')) });
  const toInventory = sender({ aggregate: inventoryAggregate, parse: parseInventoryCommand, streamOf: (input) => inventoryStreamId(stringField(input, 'sku')) });
  const toOrder = sender({ aggregate: orderAggregate, parse: parseOrderCommand, streamOf: (input) => orderStreamId(stringField(input, 'orderId')) });
  const toPayment = sender({ aggregate: paymentAggregate, parse: parsePaymentCommand, streamOf: (input) => paymentStreamId(stringField(input, 'paymentId')) });
  // Parts of listProduct and placeOrder, which check their caller's input once, first.
  const trackSku = toInventory('TrackSku', true);
  const listOnly = toProduct('ListProduct', true);
  const placeOnly = toOrder('PlaceOrder', true);

  /**
   * The SKU as the catalog has it now: its product (the inventory stream's `SkuTracked`, which never
   * changes, so a cached read is exact) and that product's current status, price and currency, read
   * fresh from the product's stream (concurrent orders share one read). Never from a read model.
   */
  const catalogEntry = async (sku: string, field: string): Promise<CatalogEntry> => {
    const unknown = () => new DomainError('KEEL_ERR_UNKNOWN_SKU', `${field}: no listed product carries SKU "${sku}".`, { sku, field });
    const { state: stock } = await handler.load(inventoryAggregate, inventoryStreamId(sku));
    if (stock.status === 'untracked') throw unknown();
    const { state: product } = await handler.load(productAggregate, productStreamId(stock.productId), { fresh: true });
    if (product.status === 'unlisted') throw unknown();
    const { productId, price, currency } = product;
    return { sku, productId, listed: product.status === 'listed', price, currency };
  };

  return {
    /** Claims the SKU for the product (KEEL_ERR_SKU_TAKEN if another has it), then lists the product. */
    async listProduct(input: Input, request: RequestContext) {
      checkSize(input);
      const { productId, sku } = parseCommand(listProductSchema, { type: 'ListProduct', data: input }).data;
      await trackSku({ sku, productId }, request, 'track-sku');
      return listOnly(input, request);
    },
    changePrice: toProduct('ChangePrice'),
    delistProduct: toProduct('DelistProduct'),
    receiveStock: toInventory('ReceiveStock'),
    reserveStock: toInventory('ReserveStock'),
    releaseStock: toInventory('ReleaseStock'),
    commitStock: toInventory('CommitStock'),
    /**
     * Prices the order from the catalog (each line's product, read from its stream) and lets the
     * order decider refuse unknown SKUs, delisted products, changed prices, mixed currencies and
     * totals no payment accepts, before anything is appended.
     */
    async placeOrder(input: Input, request: RequestContext) {
      checkSize(input);
      const { lines } = parseCommand(placeOrderInputCommand, { data: input }).data;
      const catalog = await Promise.all(lines.map((line, i) => catalogEntry(line.sku, `data.lines.${i}.sku`)));
      return placeOnly({ ...input, catalog }, request);
    },
    confirmOrder: toOrder('ConfirmOrder'),
    cancelOrder: toOrder('CancelOrder'),
    requestPayment: toPayment('RequestPayment'),
    authorizePayment: toPayment('AuthorizePayment'),
    failPayment: toPayment('FailPayment'),
    refundPayment: toPayment('RefundPayment'),
  };
};
