/**
 * The shape every Keel event shares. An event is a fact: a past-tense `type` and its `data`.
 * Deciders produce the bare form; the command handler stamps `metadata` before appending, and
 * readers get the recorded form back. The event store stores metadata as any JSON object; its
 * shape is declared here, where events are.
 */
import { z } from 'zod';

export interface Event<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
}

export interface EventMetadata {
  readonly commandId: string;
  readonly correlationId: string;
  readonly causationId: string;
  readonly actor: string;
  /** ISO-8601 time at which the command was decided. */
  readonly timestamp: string;
  readonly [key: string]: unknown;
}

/** An event as read back from the store: the fact plus who caused it, why and when. */
export type Recorded<E extends Event> = E & { readonly metadata: EventMetadata };

export const eventMetadataSchema = z.looseObject({
  commandId: z.string().min(1),
  correlationId: z.string().min(1),
  causationId: z.string().min(1),
  actor: z.string().min(1),
  timestamp: z.iso.datetime({ offset: true }),
});
