/**
 * A raw `graphql-transport-ws` socket for tests that look at what a client library hides: close
 * codes and reasons, the exact error messages of one operation, several operations on one socket.
 */
import WebSocket from 'ws';
import { within } from './within.js';

export interface WsMessage {
  readonly type: string;
  readonly id?: string;
  readonly payload?: unknown;
}

export interface WsClosed {
  readonly code: number;
  readonly reason: string;
}

export interface RawGraphqlSocket {
  /** Sends a message (an object is sent as JSON). */
  send(message: Readonly<Record<string, unknown>> | string): void;
  subscribe(id: string, query: string, variables?: Readonly<Record<string, unknown>>): void;
  complete(id: string): void;
  /** The first received message (for `id`, when given) not yet taken, within `timeoutMs`. */
  next(id?: string, timeoutMs?: number): Promise<WsMessage>;
  /** How the server closed the socket, within `timeoutMs`. */
  closed(timeoutMs?: number): Promise<WsClosed>;
  readonly isOpen: () => boolean;
  close(): Promise<void>;
}


const isMessage = (value: unknown): value is WsMessage =>
  typeof value === 'object' && value !== null && 'type' in value && typeof value.type === 'string';

/** Opens a socket on `/graphql` (no connection_init yet). */
export const openRawSocket = async (httpUrl: string): Promise<RawGraphqlSocket> => {
  const socket = new WebSocket(`${httpUrl.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  const received: WsMessage[] = [];
  const waiters: Array<{ readonly id: string | undefined; readonly resolve: (message: WsMessage) => void; readonly reject: (error: Error) => void }> = [];
  socket.on('message', (data: Buffer) => {
    const parsed: unknown = JSON.parse(data.toString('utf8'));
    if (!isMessage(parsed)) throw new Error(`not a graphql-ws message: ${data.toString('utf8')}`);
    const index = waiters.findIndex((w) => w.id === undefined || w.id === parsed.id);
    const waiter = index < 0 ? undefined : waiters.splice(index, 1)[0];
    if (waiter === undefined) received.push(parsed);
    else waiter.resolve(parsed);
  });
  const closed = new Promise<WsClosed>((resolve) =>
    socket.once('close', (code: number, reason: Buffer) => {
      const how = { code, reason: reason.toString('utf8') };
      // Whoever waits for a message learns that none will come.
      for (const waiter of waiters.splice(0)) waiter.reject(new Error(`socket closed (${how.code} ${how.reason})`));
      resolve(how);
    }),
  );
  await within(
    new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    }),
    10_000,
    'no WebSocket open',
  );
  const send = (message: Readonly<Record<string, unknown>> | string): void => socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  return {
    send,
    subscribe: (id, query, variables = {}) => send({ type: 'subscribe', id, payload: { query, variables } }),
    complete: (id) => send({ type: 'complete', id }),
    next: (id, timeoutMs = 10_000) => {
      const index = received.findIndex((m) => id === undefined || m.id === id);
      const ready = index < 0 ? undefined : received.splice(index, 1)[0];
      if (ready !== undefined) return Promise.resolve(ready);
      if (socket.readyState === WebSocket.CLOSED) return Promise.reject(new Error('socket closed'));
      return within(new Promise<WsMessage>((resolve, reject) => waiters.push({ id, resolve, reject })), timeoutMs, `no message${id === undefined ? '' : ` for ${id}`}`);
    },
    closed: (timeoutMs = 10_000) => within(closed, timeoutMs, 'the server did not close the socket'),
    isOpen: () => socket.readyState === WebSocket.OPEN,
    close: async () => {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close(1000);
      await within(closed, 10_000, 'no close').catch(() => socket.terminate());
    },
  };
};

/**
 * Opens a socket and sends connection_init (with the bearer token, when given): the socket once
 * acknowledged, else how the server closed it.
 */
export const initRawSocket = async (httpUrl: string, token?: string): Promise<{ readonly socket: RawGraphqlSocket; readonly acked: boolean; readonly closed?: WsClosed }> => {
  const socket = await openRawSocket(httpUrl);
  socket.send({ type: 'connection_init', payload: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  let message: WsMessage;
  try {
    message = await socket.next(undefined, 10_000);
  } catch {
    return { socket, acked: false, closed: await socket.closed(1_000) };
  }
  if (message.type !== 'connection_ack') throw new Error(`expected connection_ack, got ${JSON.stringify(message)}`);
  return { socket, acked: true };
};
