/**
 * Keel events ↔ EventStoreDB events. Data is JSON (`application/json`); Keel's metadata object is
 * the event's JSON custom metadata, with the schema version carried inside it under a reserved key
 * that is stripped again on read. `createdAt` is the server's `created` stamp.
 */
import { jsonEvent } from '@eventstore/db-client';
import type { AllStreamRecordedEvent, EventData as EsdbEventData, JSONType, RecordedEvent as EsdbRecordedEvent } from '@eventstore/db-client';
import { ValidationError } from '../../platform/errors.js';
import type { EventData, RecordedEvent } from '../port.js';
import { positionOf } from './positions.js';

/** Reserved metadata key holding `EventData.schemaVersion`; never part of a RecordedEvent's metadata. */
export const SCHEMA_VERSION_KEY = 'keelSchemaVersion';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The client serialises `data` with JSON.stringify whatever its type; its JSONType is narrower than
 * the port's `unknown` (numbers, booleans and null are JSON too). `undefined` is stored as null,
 * as the PostgreSQL adapter does.
 */
const asJson = (data: unknown): JSONType => (data ?? null) as JSONType;

/** Validates like the PostgreSQL adapter and encodes for the client. */
export const toEsdbEvent = (event: EventData, index: number): EsdbEventData => {
  if (typeof event.id !== 'string' || !UUID.test(event.id)) throw new ValidationError(`events[${index}].id`, 'must be a UUID');
  if (typeof event.type !== 'string' || event.type.length === 0) throw new ValidationError(`events[${index}].type`, 'must be a non-empty string');
  const version = event.schemaVersion ?? 1;
  if (!Number.isInteger(version) || version < 1) throw new ValidationError(`events[${index}].schemaVersion`, 'must be an integer >= 1');
  return jsonEvent({
    id: event.id.toLowerCase(),
    type: event.type,
    data: asJson(event.data),
    metadata: { ...event.metadata, [SCHEMA_VERSION_KEY]: version },
  });
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

const decodeData = (event: EsdbRecordedEvent): unknown => {
  if (event.isJson) return event.data;
  // Binary data written by something other than Keel: give it back as text if it is JSON.
  const text = Buffer.from(event.data).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
};

/** A stream or `$all` event as the port's RecordedEvent. */
export const toRecordedEvent = (event: EsdbRecordedEvent | AllStreamRecordedEvent): RecordedEvent => {
  const raw: unknown = event.metadata;
  const metadata: Record<string, unknown> = isRecord(raw) ? { ...raw } : {};
  const version = metadata[SCHEMA_VERSION_KEY];
  delete metadata[SCHEMA_VERSION_KEY];
  return {
    id: event.id,
    streamId: event.streamId,
    type: event.type,
    data: decodeData(event),
    metadata,
    schemaVersion: typeof version === 'number' && Number.isInteger(version) && version >= 1 ? version : 1,
    revision: event.revision,
    position: positionOf(event),
    createdAt: event.created,
  };
};

/** System events (`$`-prefixed types or streams) are EventStoreDB's own: never shown to Keel. */
export const isSystemEvent = (event: { readonly type: string; readonly streamId: string }): boolean =>
  event.type.startsWith('$') || event.streamId.startsWith('$');
