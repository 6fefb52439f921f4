/**
 * Which aggregate a stream belongs to, by its id prefix, with the production pieces replay needs:
 * the decider (its `evolve` folds, its `decide` answers `--decide` and `--redecide`), the reading
 * of stored events through today's upcasters, and the command parser (the write side's own).
 */
import { inventoryAggregate, orderAggregate, paymentAggregate, productAggregate } from '../commands/aggregates.js';
import type { Aggregate, DomainEventShape } from '../commands/handler/index.js';
import { INVENTORY_STREAM_PREFIX, parseInventoryCommand } from '../commands/inventory/index.js';
import { ORDER_STREAM_PREFIX, parseOrderCommand } from '../commands/order/index.js';
import { PAYMENT_STREAM_PREFIX, parsePaymentCommand } from '../commands/payment/index.js';
import { PRODUCT_STREAM_PREFIX, parseProductCommand } from '../commands/product/index.js';
import { KeelError } from '../platform/errors.js';

export interface StreamKind {
  readonly name: string;
  readonly prefix: string;
  readonly aggregate: Aggregate<unknown, DomainEventShape, unknown>;
  /** Validates a command exactly as the write side does (throws KEEL_ERR_VALIDATION). */
  readonly parseCommand: (input: unknown) => unknown;
}

const kind = <C, E extends DomainEventShape, S>(
  prefix: string,
  aggregate: Aggregate<C, E, S>,
  parseCommand: (input: unknown) => C,
): StreamKind => ({
  name: aggregate.name,
  prefix,
  // Replay handles every aggregate alike; each decider only ever sees its own commands and events.
  aggregate: aggregate as unknown as Aggregate<unknown, DomainEventShape, unknown>,
  parseCommand,
});

export const STREAM_KINDS: readonly StreamKind[] = [
  kind(PRODUCT_STREAM_PREFIX, productAggregate, parseProductCommand),
  kind(INVENTORY_STREAM_PREFIX, inventoryAggregate, parseInventoryCommand),
  kind(ORDER_STREAM_PREFIX, orderAggregate, parseOrderCommand),
  kind(PAYMENT_STREAM_PREFIX, paymentAggregate, parsePaymentCommand),
];

export const streamKindOf = (streamId: string): StreamKind => {
  const found = STREAM_KINDS.find((k) => streamId.startsWith(k.prefix) && streamId.length > k.prefix.length);
  if (found) return found;
  throw new KeelError(
    'KEEL_ERR_REPLAY_UNKNOWN_STREAM_KIND',
    `"${streamId}" is not a stream of a Keel aggregate: its id must start with ${STREAM_KINDS.map((k) => k.prefix).join(', ')}. List streams with: keel events --all`,
    { streamId },
  );
};
