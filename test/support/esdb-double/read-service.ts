/**
 * Streams.Read of the EventStoreDB protocol double (a FAKE for tests): stream reads, `$all` reads,
 * and subscriptions (to a stream or to `$all`, with event-type or stream-name filters and
 * checkpoints). Writes wait for the call's buffer to drain, so a slow client slows the server.
 *
 * Subscriptions follow EventStoreDB's order: confirmation, catch-up events, `caught_up`, then live
 * events; while filtering, a checkpoint (position of the last event examined) every
 * `checkpointIntervalMultiplier × window` events examined (window: `max`, or 32).
 */
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { ServerWritableStream } from '@grpc/grpc-js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import type { CallRegistry, Session } from './calls.js';
import type { DoubleLog, StoredEvent } from './log.js';
import type { ReadResp } from './messages.js';
import {
  caughtUpResp,
  checkpointResp,
  confirmationResp,
  eventResp,
  serviceError,
  streamDeletedError,
  streamName,
  streamNotFoundResp,
} from './messages.js';

type ReadReq = InstanceType<typeof streamsPb.ReadReq>;
type Options = InstanceType<typeof streamsPb.ReadReq.Options>;
type ReadCall = ServerWritableStream<ReadReq, ReadResp>;

const DEFAULT_WINDOW = 32;

/** Writes one response, waiting while the call's buffer is full; false once the session ended. */
const send = async (call: ReadCall, resp: ReadResp, session: Session): Promise<boolean> => {
  if (session.signal.aborted) return false;
  if (call.write(resp)) return true;
  try {
    await once(call, 'drain', { signal: session.signal });
    return true;
  } catch {
    return false;
  }
};

const countOf = (options: Options): number => (options.hasCount() ? Number(options.getCount()) : Number.MAX_SAFE_INTEGER);

const readStream = async (log: DoubleLog, call: ReadCall, options: Options, session: Session): Promise<void> => {
  const stream = options.getStream();
  const name = streamName(stream?.getStreamIdentifier());
  const visible = log.visible(name);
  if (visible === 'deleted') throw streamDeletedError(name);
  if (visible === 'not_found') {
    await send(call, streamNotFoundResp(name), session);
    return;
  }
  const backwards = options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;
  const from = stream?.hasRevision() ? BigInt(stream.getRevision()) : undefined;
  let events = backwards ? [...visible].reverse() : [...visible];
  if (from !== undefined) events = events.filter((e) => (backwards ? e.revision <= from : e.revision >= from));
  if (!backwards && stream?.hasEnd()) events = [];
  for (const event of events.slice(0, countOf(options))) if (!(await send(call, eventResp(event), session))) return;
};

const readAll = async (log: DoubleLog, call: ReadCall, options: Options, session: Session): Promise<void> => {
  const all = options.getAll();
  const position = all?.hasPosition() ? BigInt(all.getPosition()?.getCommitPosition() ?? '0') : undefined;
  const backwards = options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;
  let remaining = countOf(options);
  if (backwards) {
    // Backwards from a position: the events before it.
    let index = (position === undefined || all?.hasEnd() ? log.all.length : log.indexAfter(position - 1n)) - 1;
    while (remaining-- > 0 && index >= 0) {
      const event = log.all[index--];
      if (event !== undefined && !(await send(call, eventResp(event), session))) return;
    }
    return;
  }
  // Forwards from a position: that event included.
  let index = all?.hasEnd() ? log.all.length : position === undefined ? 0 : log.indexAfter(position - 1n);
  while (remaining-- > 0) {
    const event = log.all[index++];
    if (event === undefined || !(await send(call, eventResp(event), session))) return;
  }
};

const regexOrPrefixes = (expression: InstanceType<typeof streamsPb.ReadReq.Options.FilterOptions.Expression>): ((text: string) => boolean) => {
  const regex = expression.getRegex();
  if (regex !== '') {
    const compiled = new RegExp(regex);
    return (text) => compiled.test(text);
  }
  const prefixes = expression.getPrefixList();
  return (text) => prefixes.some((prefix) => text.startsWith(prefix));
};

const subscribe = async (log: DoubleLog, call: ReadCall, options: Options, session: Session): Promise<void> => {
  const filterOptions = options.hasFilter() ? options.getFilter() : undefined;
  const typeExpression = filterOptions?.getEventType();
  const streamExpression = filterOptions?.getStreamIdentifier();
  const matchType = typeExpression ? regexOrPrefixes(typeExpression) : () => true;
  const matchStream = streamExpression ? regexOrPrefixes(streamExpression) : () => true;
  const window = filterOptions?.hasMax() ? filterOptions.getMax() : DEFAULT_WINDOW;
  const checkpointEvery = filterOptions ? Math.max(1, filterOptions.getCheckpointintervalmultiplier()) * window : 0;

  let index: number;
  let inStream: (event: StoredEvent) => boolean = () => true;
  const streamOptions = options.getStream();
  if (streamOptions !== undefined) {
    const name = streamName(streamOptions.getStreamIdentifier());
    if (log.visible(name) === 'deleted') throw streamDeletedError(name);
    inStream = (event) => event.streamId === name;
    const after = streamOptions.hasRevision() ? BigInt(streamOptions.getRevision()) : undefined;
    index = streamOptions.hasEnd() ? log.all.length : 0;
    if (after !== undefined) {
      const at = log.all.findIndex((e) => e.streamId === name && e.revision === after);
      index = at < 0 ? 0 : at + 1;
    }
  } else {
    const all = options.getAll();
    const position = all?.hasPosition() ? BigInt(all.getPosition()?.getCommitPosition() ?? '0') : undefined;
    // A subscription from a position excludes it.
    index = all?.hasEnd() ? log.all.length : position === undefined ? 0 : log.indexAfter(position);
  }

  if (!(await send(call, confirmationResp(randomUUID()), session))) return;
  let caughtUp = false;
  let examined = 0;
  while (!session.signal.aborted) {
    await session.whileStalled();
    if (session.signal.aborted) return;
    const event = log.all[index];
    if (event === undefined) {
      if (!caughtUp) {
        caughtUp = true;
        if (!(await send(call, caughtUpResp(), session))) return;
      }
      await log.nextWrite(session.signal);
      continue;
    }
    index += 1;
    if (!inStream(event)) continue;
    if (matchType(event.type) && matchStream(event.streamId) && !(await send(call, eventResp(event), session))) return;
    if (checkpointEvery > 0 && ++examined >= checkpointEvery) {
      examined = 0;
      if (!(await send(call, checkpointResp(event.position), session))) return;
    }
  }
};

export const readHandler =
  (log: DoubleLog, calls: CallRegistry) =>
  async (call: ReadCall): Promise<void> => {
    const { session, close } = calls.openSession(call.request.getOptions()?.hasSubscription() ?? false);
    let ended = false;
    const fail = (error: object): void => {
      if (ended) return;
      ended = true;
      session.end();
      call.emit('error', error);
    };
    const untrack = calls.track({ abort: (code, details) => fail(serviceError(code, details)) });
    call.on('cancelled', () => session.end());
    try {
      const options = call.request.getOptions();
      if (options === undefined) throw serviceError(status.INVALID_ARGUMENT, 'Read without options.');
      if (options.hasSubscription()) await subscribe(log, call, options, session);
      else if (options.hasStream()) await readStream(log, call, options, session);
      else await readAll(log, call, options, session);
      if (!ended && !session.signal.aborted) {
        ended = true;
        call.end();
      }
    } catch (error) {
      fail(typeof error === 'object' && error !== null ? error : serviceError(status.UNKNOWN, String(error)));
    } finally {
      untrack();
      close();
    }
  };
