/**
 * An event as replay shows it: where it sits (position, stream, revision), when, and why (the
 * command, correlation and causation ids and the actor from its metadata), with its data.
 */
import type { RecordedEvent } from '../eventstore/port.js';
import { textField, toPlain, type Plain } from './plain.js';

export interface EventView {
  readonly id: string;
  readonly position: bigint;
  readonly streamId: string;
  readonly revision: bigint;
  readonly type: string;
  readonly schemaVersion: number;
  /** When the store recorded it. */
  readonly time: Date;
  readonly actor: string | undefined;
  readonly commandId: string | undefined;
  readonly commandType: string | undefined;
  /** The command's data, on the first event the command produced (events since commands are recorded). */
  readonly commandData: unknown;
  readonly correlationId: string | undefined;
  readonly causationId: string | undefined;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export const viewOf = (event: RecordedEvent): EventView => {
  const m = event.metadata;
  return {
    id: event.id,
    position: event.position,
    streamId: event.streamId,
    revision: event.revision,
    type: event.type,
    schemaVersion: event.schemaVersion,
    time: event.createdAt,
    actor: textField(m, 'actor'),
    commandId: textField(m, 'commandId'),
    commandType: textField(m, 'commandType'),
    commandData: m.commandData,
    correlationId: textField(m, 'correlationId'),
    causationId: textField(m, 'causationId'),
    data: event.data,
    metadata: m,
  };
};

/** The JSON form (`--json`, `--ndjson`, the inspector): bigints as strings, the time as ISO text. */
export const eventJson = (view: EventView): Record<string, Plain> => ({
  id: view.id,
  position: view.position.toString(),
  streamId: view.streamId,
  revision: view.revision.toString(),
  type: view.type,
  schemaVersion: view.schemaVersion,
  time: view.time.toISOString(),
  actor: view.actor ?? null,
  commandId: view.commandId ?? null,
  commandType: view.commandType ?? null,
  correlationId: view.correlationId ?? null,
  causationId: view.causationId ?? null,
  data: toPlain(view.data),
  metadata: toPlain(view.metadata),
});
