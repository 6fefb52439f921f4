/**
 * Protocol messages of the EventStoreDB protocol double (a FAKE for tests), built with the
 * client's own generated classes (one google-protobuf copy: the serializers check `instanceof`).
 */
import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import type { Expectation, StoredEvent } from './log.js';

const { Empty, StreamIdentifier, UUID } = sharedPb;
const { ReadResp } = streamsPb;

export type ReadResp = InstanceType<typeof ReadResp>;

/** A UUID as the client sends it: `string`, or `structured` (two signed 64-bit halves). */
export const parseUuid = (uuid: InstanceType<typeof UUID> | undefined): string => {
  if (uuid === undefined) return '';
  const structured = uuid.getStructured();
  if (!uuid.hasStructured() || structured === undefined) return uuid.getString().toLowerCase();
  const hex = (bits: string): string => BigInt.asUintN(64, BigInt(bits)).toString(16).padStart(16, '0');
  const h = hex(structured.getMostSignificantBits()) + hex(structured.getLeastSignificantBits());
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

export const streamName = (identifier: InstanceType<typeof StreamIdentifier> | undefined): string =>
  identifier === undefined ? '' : Buffer.from(identifier.getStreamName_asU8()).toString('utf8');

export const streamIdentifier = (name: string): InstanceType<typeof StreamIdentifier> => {
  const identifier = new StreamIdentifier();
  identifier.setStreamName(Buffer.from(name, 'utf8'));
  return identifier;
};

/** Bytes of a `bytes` field, which the generated code returns as Uint8Array or base64 text. */
export const asBytes = (value: Uint8Array | string): Uint8Array => (typeof value === 'string' ? Buffer.from(value, 'base64') : value);

export const expectationOf = (options: {
  hasAny(): boolean;
  hasNoStream(): boolean;
  hasStreamExists(): boolean;
}, revision: string | undefined): Expectation => {
  if (options.hasNoStream()) return { kind: 'no_stream' };
  if (options.hasStreamExists()) return { kind: 'exists' };
  if (revision !== undefined) return { kind: 'revision', revision: BigInt(revision) };
  return { kind: 'any' };
};

export const eventResp = (event: StoredEvent): ReadResp => {
  const recorded = new ReadResp.ReadEvent.RecordedEvent();
  const id = new UUID();
  id.setString(event.id);
  recorded.setId(id);
  recorded.setStreamIdentifier(streamIdentifier(event.streamId));
  recorded.setStreamRevision(event.revision.toString());
  recorded.setCommitPosition(event.position.toString());
  recorded.setPreparePosition(event.position.toString());
  const metadata = recorded.getMetadataMap();
  metadata.set('type', event.type);
  metadata.set('content-type', event.contentType);
  metadata.set('created', event.created.toString());
  recorded.setCustomMetadata(event.customMetadata);
  recorded.setData(event.data);
  const read = new ReadResp.ReadEvent();
  read.setEvent(recorded);
  read.setCommitPosition(event.position.toString());
  const resp = new ReadResp();
  resp.setEvent(read);
  return resp;
};

export const confirmationResp = (subscriptionId: string): ReadResp => {
  const confirmation = new ReadResp.SubscriptionConfirmation();
  confirmation.setSubscriptionId(subscriptionId);
  return new ReadResp().setConfirmation(confirmation);
};

export const caughtUpResp = (): ReadResp => new ReadResp().setCaughtUp(new ReadResp.CaughtUp());

export const checkpointResp = (position: bigint): ReadResp => {
  const checkpoint = new ReadResp.Checkpoint();
  checkpoint.setCommitPosition(position.toString());
  checkpoint.setPreparePosition(position.toString());
  return new ReadResp().setCheckpoint(checkpoint);
};

export const streamNotFoundResp = (name: string): ReadResp => {
  const notFound = new ReadResp.StreamNotFound();
  notFound.setStreamIdentifier(streamIdentifier(name));
  return new ReadResp().setStreamNotFound(notFound);
};

/** An error status with EventStoreDB's trailers (`exception`, …), as the client reads them. */
export const serviceError = (code: status, details: string, trailers: Record<string, string> = {}): Partial<ServiceError> => {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(trailers)) metadata.set(key, value);
  return { code, details, message: details, metadata };
};

export const streamDeletedError = (name: string): Partial<ServiceError> =>
  serviceError(status.FAILED_PRECONDITION, `Event stream '${name}' is deleted.`, { exception: 'stream-deleted', 'stream-name': name });

export { Empty };
