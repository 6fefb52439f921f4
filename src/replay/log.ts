/**
 * What replay may do with the event store: read. The port narrowed to its read methods, so nothing
 * under src/replay/ can append (the type checker refuses it), plus the reads replay shares.
 */
import type { EventStore, RecordedEvent } from '../eventstore/port.js';
import { KeelError } from '../platform/errors.js';

export type EventLog = Pick<EventStore, 'readStream' | 'readAll' | 'subscribe' | 'headPosition'>;

export const streamNotFound = (streamId: string): KeelError =>
  new KeelError('KEEL_ERR_STREAM_NOT_FOUND', `No stream "${streamId}" in the event store. Find streams with: keel events --all --stream-prefix <prefix>`, { streamId });

/** The first and last events of a stream (two one-event reads), or a STREAM_NOT_FOUND error. */
export const streamBounds = async (log: EventLog, streamId: string): Promise<{ first: RecordedEvent; last: RecordedEvent }> => {
  let first: RecordedEvent | undefined;
  let last: RecordedEvent | undefined;
  for await (const event of log.readStream(streamId, { maxCount: 1 })) first = event;
  for await (const event of log.readStream(streamId, { direction: 'backwards', maxCount: 1 })) last = event;
  if (!first || !last) throw streamNotFound(streamId);
  return { first, last };
};
