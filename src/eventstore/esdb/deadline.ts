/**
 * Deadlines for the calls the client leaves without one. @eventstore/db-client reads with no
 * deadline, and a batch append sends its deadline to the server but waits for the answer without
 * one; so when EventStoreDB stops answering without closing the connection (a partition, a frozen
 * node), a command would wait until gRPC's keepalive gave up on the connection, or for ever on one
 * that never finished connecting. Keel bounds each read (the time to the server's next message)
 * and each append (its retries included) by the connection string's `defaultDeadline`, the
 * client's own setting for its deadlines, or DEFAULT_DEADLINE_MS when the string sets none; past
 * it the call is cancelled and fails with KEEL_ERR_EVENTSTORE_UNAVAILABLE.
 */
import { EventStoreDBClient } from '@eventstore/db-client';
import type { StreamingRead } from '@eventstore/db-client';
import { EventStoreUnavailableError } from '../errors.js';

/** Keel's deadline when EVENTSTORE_URL sets no `defaultDeadline` (the client's own default is 10 s). */
export const DEFAULT_DEADLINE_MS = 5_000;

const deadlines = new WeakMap<EventStoreDBClient, number>();

/** The `defaultDeadline` of an EventStoreDB connection string, or DEFAULT_DEADLINE_MS. */
export const deadlineOf = (connectionString: string): number => {
  const value = /[?&]defaultDeadline=(\d+)/i.exec(connectionString)?.[1];
  return value === undefined ? DEFAULT_DEADLINE_MS : Number(value);
};

/** The client for `connectionString`, with its deadline remembered for `deadlineFor`. */
export const connect = (connectionString: string): EventStoreDBClient => {
  const client = EventStoreDBClient.connectionString(connectionString);
  deadlines.set(client, deadlineOf(connectionString));
  return client;
};

export const deadlineFor = (client: EventStoreDBClient): number => deadlines.get(client) ?? DEFAULT_DEADLINE_MS;

const silent = (ms: number): EventStoreUnavailableError => new EventStoreUnavailableError(`The event store did not answer within ${ms} ms.`);

/**
 * Reads a streaming read to its end, handing each item to `each`; when the server sends nothing
 * for `ms` (before the first item or between two), the call is cancelled and this fails with
 * EventStoreUnavailableError. One timer per read, refreshed in place: no timer and no extra async
 * step per event (reading $all is a hot path).
 */
export const consumeWithin = async <E>(read: StreamingRead<E>, ms: number, each: (item: E) => void): Promise<void> => {
  const timer = setTimeout(() => {
    void read.cancel().catch(() => {});
    read.destroy(silent(ms));
  }, ms);
  try {
    for await (const item of read as AsyncIterable<E>) {
      timer.refresh();
      each(item);
    }
  } finally {
    clearTimeout(timer);
  }
};

/**
 * `call`'s outcome, or EventStoreUnavailableError (naming `deadlineMs`) once `remainingMs` pass
 * first; the call is left to settle on its own.
 */
export const within = <T>(call: Promise<T>, remainingMs: number, deadlineMs = remainingMs): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(silent(deadlineMs)), Math.max(0, remainingMs));
  });
  return Promise.race([call, late]).finally(() => clearTimeout(timer));
};
