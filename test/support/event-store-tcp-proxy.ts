/**
 * A TCP proxy a test can put in front of any server Keel talks to (PostgreSQL, Redis, the
 * EventStoreDB protocol double) and then break, to simulate a lost dependency without touching the
 * server itself, which other test files share:
 * - `cut()` drops every connection and refuses new ones (a stopped server, a refused port);
 * - `blackhole()` keeps every connection open but forwards nothing, and accepts new ones that
 *   never reach the server (a network partition: nothing answers, nothing is refused);
 * - `resume()` forwards again (connections held by a blackhole are dropped: their streams are
 *   out of step with the server).
 */
import net from 'node:net';

export interface TcpProxy {
  /** The target URL with its host and port replaced by the proxy's. */
  readonly url: string;
  cut(): void;
  blackhole(): void;
  resume(): void;
  close(): Promise<void>;
}

/** Ports of the schemes Keel's URLs use, when the URL names none. */
const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379, 'rediss:': 6379, 'esdb:': 2113 };

export const startTcpProxy = async (targetUrl: string): Promise<TcpProxy> => {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || DEFAULT_PORTS[target.protocol] || 0);
  const sockets = new Set<net.Socket>();
  let mode: 'open' | 'cut' | 'blackhole' = 'open';
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    if (mode === 'cut') {
      client.destroy();
      return;
    }
    track(client);
    // Accepted, never answered: the client's connect succeeds and then hears nothing.
    if (mode === 'blackhole') return;
    const upstream = net.connect({ host: target.hostname, port: targetPort });
    track(upstream);
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      from.on('data', (chunk: Buffer) => {
        if (mode === 'open') to.write(chunk);
      });
      from.on('close', () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(address.port);
  const dropAll = (): void => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    url: url.toString(),
    cut: () => {
      mode = 'cut';
      dropAll();
    },
    blackhole: () => {
      mode = 'blackhole';
    },
    resume: () => {
      if (mode === 'blackhole') dropAll();
      mode = 'open';
    },
    close: async () => {
      mode = 'cut';
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
