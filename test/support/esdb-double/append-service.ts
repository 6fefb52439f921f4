/**
 * Streams.Append, Streams.BatchAppend, Streams.Delete and Streams.Tombstone of the EventStoreDB
 * protocol double (a FAKE for tests). Outcomes travel as EventStoreDB sends them: Append's wrong
 * expected version is a normal response, BatchAppend's errors are a google.rpc.Status whose
 * details is one Any, other failures are trailers (`exception`, `stream-name`, …).
 */
import { status } from '@grpc/grpc-js';
import type { sendUnaryData, ServerDuplexStream, ServerReadableStream, ServerUnaryCall } from '@grpc/grpc-js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import statusPb from '@eventstore/db-client/generated/status_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import anyPb from 'google-protobuf/google/protobuf/any_pb.js';
import emptyPb from 'google-protobuf/google/protobuf/empty_pb.js';
import type { CallRegistry } from './calls.js';
import type { AppendOutcome, DoubleLog, Expectation, ProposedEvent } from './log.js';
import { asBytes, Empty, expectationOf, parseUuid, serviceError, streamDeletedError, streamIdentifier, streamName } from './messages.js';

const { AppendResp, BatchAppendResp, DeleteResp, TombstoneResp } = streamsPb;
type AppendReq = InstanceType<typeof streamsPb.AppendReq>;
type BatchAppendReq = InstanceType<typeof streamsPb.BatchAppendReq>;
type Proposed = InstanceType<typeof streamsPb.AppendReq.ProposedMessage> | InstanceType<typeof streamsPb.BatchAppendReq.ProposedMessage>;

const proposedEvent = (message: Proposed): ProposedEvent => {
  const metadata = message.getMetadataMap();
  return {
    id: parseUuid(message.getId()),
    type: metadata.get('type') ?? '',
    contentType: metadata.get('content-type') ?? 'application/octet-stream',
    data: asBytes(message.getData()),
    customMetadata: asBytes(message.getCustomMetadata()),
  };
};

const tooLarge = (max: number) =>
  serviceError(status.INVALID_ARGUMENT, `Maximum Append Size of ${max} Exceeded.`, {
    exception: 'maximum-append-size-exceeded',
    'maximum-append-size': String(max),
  });

/** How the double answers an idempotent re-send: with the original position, or with none (as some servers do). */
export type IdempotentPosition = 'original' | 'none';

const appendResp = (
  outcome: (AppendOutcome & { ok: true }) | (AppendOutcome & { reason: 'wrong_expected_version' }),
  expected: Expectation,
  idempotentPosition: IdempotentPosition,
) => {
  const resp = new AppendResp();
  if (outcome.ok) {
    const success = new AppendResp.Success();
    if (outcome.revision >= 0n) success.setCurrentRevision(outcome.revision.toString());
    else success.setNoStream(new Empty());
    if (outcome.idempotent && idempotentPosition === 'none') return resp.setSuccess(success.setNoPosition(new Empty()));
    const position = new AppendResp.Position();
    position.setCommitPosition(outcome.position.toString());
    position.setPreparePosition(outcome.position.toString());
    success.setPosition(position);
    return resp.setSuccess(success);
  }
  const wrong = new AppendResp.WrongExpectedVersion();
  if (outcome.current === undefined) wrong.setCurrentNoStream(new Empty());
  else wrong.setCurrentRevision(outcome.current.toString());
  if (expected.kind === 'revision') wrong.setExpectedRevision(expected.revision.toString());
  else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(new Empty());
  else if (expected.kind === 'exists') wrong.setExpectedStreamExists(new Empty());
  else wrong.setExpectedAny(new Empty());
  return resp.setWrongExpectedVersion(wrong);
};

export const appendHandler =
  (log: DoubleLog, calls: CallRegistry, idempotentPosition: IdempotentPosition) =>
  (call: ServerReadableStream<AppendReq, InstanceType<typeof AppendResp>>, callback: sendUnaryData<InstanceType<typeof AppendResp>>): void => {
    let stream = '';
    let expected: Expectation = { kind: 'any' };
    const proposed: ProposedEvent[] = [];
    let responded = false;
    const respond: sendUnaryData<InstanceType<typeof AppendResp>> = (error, value) => {
      if (responded) return;
      responded = true;
      untrack();
      callback(error, value);
    };
    const untrack = calls.track({ abort: (code, details) => respond(serviceError(code, details)) });
    call.on('data', (req: AppendReq) => {
      const options = req.getOptions();
      const message = req.getProposedMessage();
      if (options !== undefined) {
        stream = streamName(options.getStreamIdentifier());
        expected = expectationOf(options, options.hasRevision() ? options.getRevision() : undefined);
      } else if (message !== undefined) proposed.push(proposedEvent(message));
    });
    call.on('error', () => respond(serviceError(status.CANCELLED, 'cancelled')));
    call.on('cancelled', () => respond(serviceError(status.CANCELLED, 'cancelled')));
    call.on('end', () => {
      const outcome = log.append(stream, expected, proposed);
      if (outcome.ok || outcome.reason === 'wrong_expected_version') respond(null, appendResp(outcome, expected, idempotentPosition));
      else if (outcome.reason === 'stream_deleted') respond(streamDeletedError(stream));
      else respond(tooLarge(outcome.max));
    });
  };

const packError = (code: number, message: string, typeName: string, bytes: Uint8Array): InstanceType<typeof statusPb.Status> => {
  const details = new anyPb.Any();
  details.pack(bytes, typeName);
  const error = new statusPb.Status();
  error.setCode(code);
  error.setMessage(message);
  error.setDetails(details);
  return error;
};

const batchResp = (correlationId: string, stream: string, expected: Expectation, outcome: AppendOutcome, idempotentPosition: IdempotentPosition) => {
  const resp = new BatchAppendResp();
  const id = new sharedPb.UUID();
  id.setString(correlationId);
  resp.setCorrelationId(id);
  resp.setStreamIdentifier(streamIdentifier(stream));
  if (outcome.ok) {
    const success = new BatchAppendResp.Success();
    if (outcome.revision >= 0n) success.setCurrentRevision(outcome.revision.toString());
    else success.setNoStream(new emptyPb.Empty());
    if (outcome.idempotent && idempotentPosition === 'none') return resp.setSuccess(success.setNoPosition(new emptyPb.Empty()));
    const position = new sharedPb.AllStreamPosition();
    position.setCommitPosition(outcome.position.toString());
    position.setPreparePosition(outcome.position.toString());
    success.setPosition(position);
    return resp.setSuccess(success);
  }
  if (outcome.reason === 'wrong_expected_version') {
    const wrong = new sharedPb.WrongExpectedVersion();
    if (outcome.current === undefined) wrong.setCurrentNoStream(new emptyPb.Empty());
    else wrong.setCurrentStreamRevision(outcome.current.toString());
    if (expected.kind === 'revision') wrong.setExpectedStreamPosition(expected.revision.toString());
    else if (expected.kind === 'no_stream') wrong.setExpectedNoStream(new emptyPb.Empty());
    else if (expected.kind === 'exists') wrong.setExpectedStreamExists(new emptyPb.Empty());
    else wrong.setExpectedAny(new emptyPb.Empty());
    return resp.setError(packError(status.FAILED_PRECONDITION, 'Wrong expected version.', 'event_store.client.WrongExpectedVersion', wrong.serializeBinary()));
  }
  if (outcome.reason === 'stream_deleted') {
    const deleted = new sharedPb.StreamDeleted();
    deleted.setStreamIdentifier(streamIdentifier(stream));
    return resp.setError(packError(status.FAILED_PRECONDITION, 'Stream deleted.', 'event_store.client.StreamDeleted', deleted.serializeBinary()));
  }
  const size = new sharedPb.MaximumAppendSizeExceeded();
  size.setMaxappendsize(outcome.max);
  return resp.setError(packError(status.INVALID_ARGUMENT, 'Maximum append size exceeded.', 'event_store.client.MaximumAppendSizeExceeded', size.serializeBinary()));
};

export const batchAppendHandler =
  (log: DoubleLog, calls: CallRegistry, idempotentPosition: IdempotentPosition) =>
  (call: ServerDuplexStream<BatchAppendReq, InstanceType<typeof BatchAppendResp>>): void => {
    const pending = new Map<string, { stream: string; expected: Expectation; events: ProposedEvent[] }>();
    const untrack = calls.track({ abort: (code, details) => call.emit('error', serviceError(code, details)) });
    call.on('data', (req: BatchAppendReq) => {
      const correlationId = parseUuid(req.getCorrelationId());
      let batch = pending.get(correlationId);
      const options = req.getOptions();
      if (batch === undefined) {
        batch = { stream: '', expected: { kind: 'any' }, events: [] };
        pending.set(correlationId, batch);
      }
      if (options !== undefined) {
        batch.stream = streamName(options.getStreamIdentifier());
        batch.expected = expectationOf(options, options.hasStreamPosition() ? options.getStreamPosition() : undefined);
      }
      for (const message of req.getProposedMessagesList()) batch.events.push(proposedEvent(message));
      if (!req.getIsFinal()) return;
      pending.delete(correlationId);
      call.write(batchResp(correlationId, batch.stream, batch.expected, log.append(batch.stream, batch.expected, batch.events), idempotentPosition));
    });
    call.on('error', () => untrack());
    call.on('cancelled', () => untrack());
    call.on('end', () => {
      untrack();
      call.end();
    });
  };

type DeleteLike = InstanceType<typeof streamsPb.DeleteReq> | InstanceType<typeof streamsPb.TombstoneReq>;

const deletion =
  <Resp extends InstanceType<typeof DeleteResp> | InstanceType<typeof TombstoneResp>>(
    log: DoubleLog,
    run: (log: DoubleLog, stream: string, expected: Expectation) => AppendOutcome,
    make: (position: bigint) => Resp,
  ) =>
  (call: ServerUnaryCall<DeleteLike, Resp>, callback: sendUnaryData<Resp>): void => {
    const options = call.request.getOptions();
    const stream = streamName(options?.getStreamIdentifier());
    const expected = options === undefined ? { kind: 'any' as const } : expectationOf(options, options.hasRevision() ? options.getRevision() : undefined);
    const outcome = run(log, stream, expected);
    if (outcome.ok) return callback(null, make(outcome.position));
    if (outcome.reason === 'stream_deleted') return callback(streamDeletedError(stream));
    const current = outcome.reason === 'wrong_expected_version' && outcome.current !== undefined ? outcome.current.toString() : '-1';
    callback(
      serviceError(status.FAILED_PRECONDITION, 'Wrong expected version.', {
        exception: 'wrong-expected-version',
        'stream-name': stream,
        'expected-version': expected.kind === 'revision' ? expected.revision.toString() : '-2',
        'actual-version': current,
      }),
    );
  };

export const deleteHandler = (log: DoubleLog) =>
  deletion(log, (l, s, e) => l.softDelete(s, e), (p) => {
    const position = new DeleteResp.Position();
    position.setCommitPosition(p.toString());
    position.setPreparePosition(p.toString());
    return new DeleteResp().setPosition(position);
  });

export const tombstoneHandler = (log: DoubleLog) =>
  deletion(log, (l, s, e) => l.tombstone(s, e), (p) => {
    const position = new TombstoneResp.Position();
    position.setCommitPosition(p.toString());
    position.setPreparePosition(p.toString());
    return new TombstoneResp().setPosition(position);
  });
