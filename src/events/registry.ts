/**
 * Every event type Keel writes, with its current schema version, the zod schema of its data and
 * the upcasters that lift older versions. The mapped type makes a missing entry a compile error.
 */
import type { z } from 'zod';
import { EventDecodingError } from './decoding-error.js';
import { inventoryEventSchemas } from './inventory.js';
import type { InventoryEvent } from './inventory.js';
import { orderEventSchemas } from './order.js';
import type { OrderEvent } from './order.js';
import { paymentEventSchemas } from './payment.js';
import type { PaymentEvent } from './payment.js';
import { productEventSchemas } from './product.js';
import type { ProductEvent } from './product.js';

export type KeelEvent = ProductEvent | InventoryEvent | OrderEvent | PaymentEvent;
export type EventType = KeelEvent['type'];
export type EventOf<T extends EventType> = Extract<KeelEvent, { readonly type: T }>;
export type EventDataOf<T extends EventType> = EventOf<T>['data'];

/** Lifts data written at version n to version n + 1 (it may throw on malformed input). */
export type Upcaster = (data: unknown) => unknown;

export interface EventDefinition<Data> {
  /** The current schema version: what deciders write today. */
  readonly version: number;
  readonly schema: z.ZodType<Data>;
  /** Keyed by the version they lift *from*; one step each, applied in sequence. */
  readonly upcasters?: Readonly<Record<number, Upcaster>>;
}

export const eventRegistry: { readonly [T in EventType]: EventDefinition<EventDataOf<T>> } = {
  ...productEventSchemas,
  ...inventoryEventSchemas,
  ...orderEventSchemas,
  ...paymentEventSchemas,
};

export const eventTypes = Object.keys(eventRegistry) as readonly EventType[];

export const isEventType = (type: string): type is EventType => Object.hasOwn(eventRegistry, type);

/** The definition of a known type; an unknown one throws `EventDecodingError`. */
export const definitionOfType = (type: string, schemaVersion = 1): EventDefinition<unknown> => {
  if (!isEventType(type)) throw new EventDecodingError(`Unknown event type "${type}".`, type, schemaVersion);
  return eventRegistry[type];
};

/** The schema version a freshly decided event of this type is written with (unknown type: throws). */
export const currentVersion = (type: string): number => definitionOfType(type).version;
