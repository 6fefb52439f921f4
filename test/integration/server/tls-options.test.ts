/**
 * The TLS settings of docs/operations/degradation-and-tls.md reach the drivers through Keel's own
 * code (openDatabase, openReadReplica, openRedis, createEsdbEventStore, loadConfig), and do what
 * the page says. No PostgreSQL, Redis or EventStoreDB speaks here: small TLS listeners in this
 * process record whether a client began a TLS handshake and whether it completed, with a
 * throwaway certificate authority made by the `openssl` command (Debian's `openssl`, which the
 * PostgreSQL packages install) for 127.0.0.1.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import tls from 'node:tls';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEsdbEventStore } from '../../../src/eventstore/esdb/index.js';
import { loadConfig } from '../../../src/platform/config.js';
import { openDatabase } from '../../../src/platform/database.js';
import { openReadReplica } from '../../../src/platform/read-replica.js';
import { openRedis } from '../../../src/platform/redis.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

interface Certificates {
  readonly dir: string;
  /** The test CA's certificate (PEM file). */
  readonly caFile: string;
  /** A server certificate for IP 127.0.0.1 and DNS localhost, signed by the CA. */
  readonly good: tls.SecureContextOptions;
  /** A server certificate for another name, signed by the same CA. */
  readonly wrongHost: tls.SecureContextOptions;
}

const makeCertificates = (): Certificates => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-tls-'));
  const at = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '2', '-subj', '/CN=Keel test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  const server = (name: string, altNames: string): tls.SecureContextOptions => {
    writeFileSync(at(`${name}.ext`), `subjectAltName=${altNames}\n`);
    openssl('req', ...ec, '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', `/CN=${name}`);
    openssl('x509', '-req', '-in', at(`${name}.csr`), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial',
      '-out', at(`${name}.pem`), '-days', '2', '-extfile', at(`${name}.ext`));
    return { key: readFileSync(at(`${name}.key`)), cert: readFileSync(at(`${name}.pem`)) };
  };
  return {
    dir,
    caFile: at('ca.pem'),
    good: server('keel-test-server', 'IP:127.0.0.1,DNS:localhost'),
    wrongHost: server('elsewhere', 'DNS:elsewhere.example'),
  };
};

/** What a listener saw of its clients' TLS handshakes. */
interface Handshakes {
  /** Connections whose first bytes were a TLS handshake (directly, or after PostgreSQL's SSLRequest). */
  began: number;
  /** Handshakes that completed. */
  completed: number;
}

interface Listener {
  readonly port: number;
  readonly seen: Handshakes;
  close(): Promise<void>;
}

const listen = async (server: net.Server, seen: Handshakes): Promise<Listener> => {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    seen,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/** A TLS server (gRPC over TLS) that ends each connection once the handshake is done. */
const tlsListener = (context: tls.SecureContextOptions): Promise<Listener> => {
  const seen: Handshakes = { began: 0, completed: 0 };
  const server = tls.createServer({ ...context, ALPNProtocols: ['h2'] }, (socket) => {
    seen.began += 1;
    seen.completed += 1;
    socket.destroy();
  });
  server.on('tlsClientError', () => {});
  return listen(server, seen);
};

/** A TCP server that only looks at each client's first byte: 0x16 opens a TLS handshake. */
const firstByteListener = (): Promise<Listener> => {
  const seen: Handshakes = { began: 0, completed: 0 };
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (chunk: Buffer) => {
      if (chunk[0] === 0x16) seen.began += 1;
      socket.destroy();
    });
  });
  return listen(server, seen);
};

/** PostgreSQL's SSLRequest: length 8, then the code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** A PostgreSQL server that says yes to SSLRequest, does the handshake, then hangs up. */
const postgresListener = (context: tls.SecureContextOptions): Promise<Listener> => {
  const seen: Handshakes = { began: 0, completed: 0 };
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (chunk: Buffer) => {
      if (!chunk.subarray(0, 8).equals(SSL_REQUEST)) {
        socket.destroy();
        return;
      }
      seen.began += 1;
      socket.write('S');
      const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: tls.createSecureContext(context) });
      secure.on('error', () => socket.destroy());
      secure.on('secure', () => {
        seen.completed += 1;
        socket.destroy();
      });
    });
  });
  return listen(server, seen);
};

/** The error `run` fails with (every connection here ends before a real server would answer). */
const failure = async (run: () => Promise<unknown>): Promise<Error> => {
  try {
    await run();
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
  throw new Error('expected a failure');
};

const queryThrough = async (url: string): Promise<Error> => {
  const handle = await openDatabase({ databaseUrl: url, dataDir: '', poolSize: 1 });
  try {
    return await failure(() => sql`select 1`.execute(handle.db));
  } finally {
    await handle.close();
  }
};

describe('TLS settings reach the drivers (local TLS listeners with a test CA, no database servers)', () => {
  let certs: Certificates;
  beforeAll(() => {
    certs = makeCertificates();
  });
  afterAll(() => {
    if (certs !== undefined) rmSync(certs.dir, { recursive: true, force: true });
  });

  describe('PostgreSQL (DATABASE_URL, DATABASE_READ_URL: node-postgres)', () => {
    let good: Listener;
    let wrongHost: Listener;
    beforeAll(async () => {
      good = await postgresListener(certs.good);
      wrongHost = await postgresListener(certs.wrongHost);
    });
    afterAll(async () => {
      await good?.close();
      await wrongHost?.close();
    });
    const url = (port: number, query: string): string => `postgres://keel:secret@127.0.0.1:${port}/keel?${query}`;

    it('sslmode=verify-full with sslrootcert: the handshake completes against a certificate of the CA for the host', async () => {
      const configured = loadConfig({ DATABASE_URL: url(good.port, `sslmode=verify-full&sslrootcert=${certs.caFile}`) });
      await queryThrough(configured.databaseUrl ?? '');
      expect(good.seen).toEqual({ began: 1, completed: 1 });
    });

    it('the read replica (DATABASE_READ_URL) keeps the same parameters', async () => {
      const before = good.seen.completed;
      const replica = await openReadReplica(url(good.port, `sslmode=verify-full&sslrootcert=${certs.caFile}`), { poolSize: 1 });
      try {
        await failure(() => sql`select 1`.execute(replica.db));
      } finally {
        await replica.close();
      }
      expect(good.seen.completed).toBe(before + 1);
    });

    it('verify-full refuses a certificate of the CA for another host', async () => {
      const error = await queryThrough(url(wrongHost.port, `sslmode=verify-full&sslrootcert=${certs.caFile}`));
      expect(error.message).toContain("does not match certificate's altnames");
    });

    it('sslmode=require verifies the certificate too (node-postgres, unlike libpq): refused without the CA', async () => {
      const error = await queryThrough(url(good.port, 'sslmode=require'));
      expect(error).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    });
  });

  describe('Redis (REDIS_URL: ioredis)', () => {
    let server: Listener;
    let untrusted: Listener;
    let trusted: Listener;
    beforeAll(async () => {
      server = await firstByteListener();
      untrusted = await tlsListener(certs.good);
      trusted = await tlsListener(certs.good);
    });
    afterAll(async () => {
      await server?.close();
      await untrusted?.close();
      await trusted?.close();
    });

    it('rediss:// speaks TLS and verifies the certificate against the trusted CAs (the test CA is not one: refused)', async () => {
      const configured = loadConfig({ REDIS_URL: `rediss://127.0.0.1:${server.port}` });
      await failure(() => openRedis(configured.redisUrl ?? ''));
      expect(server.seen.began).toBeGreaterThanOrEqual(1);
      await failure(() => openRedis(`rediss://127.0.0.1:${untrusted.port}`));
      expect(untrusted.seen.completed).toBe(0);
    });

    it('a private CA for Redis comes from NODE_EXTRA_CA_CERTS (a URL cannot name one): the handshake completes', async () => {
      // Node reads NODE_EXTRA_CA_CERTS when it starts, so Keel's openRedis runs in a child process.
      const script = `const { openRedis } = await import('./src/platform/redis.ts');
        await openRedis('rediss://127.0.0.1:${trusted.port}').then((r) => r.disconnect(), () => {});`;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: root,
        env: { ...process.env, NODE_EXTRA_CA_CERTS: certs.caFile },
        stdio: 'ignore',
      });
      await once(child, 'exit');
      expect(trusted.seen.completed).toBeGreaterThanOrEqual(1);
    });
  });

  describe('EventStoreDB (EVENTSTORE_URL: @eventstore/db-client)', () => {
    let server: Listener;
    let plain: Listener;
    beforeAll(async () => {
      server = await tlsListener(certs.good);
      plain = await firstByteListener();
    });
    afterAll(async () => {
      await server?.close();
      await plain?.close();
    });

    it('tls=true with tlsCAFile: the handshake completes against a certificate of that CA', async () => {
      const configured = loadConfig({ EVENTSTORE_URL: `esdb://127.0.0.1:${server.port}?tls=true&tlsCAFile=${certs.caFile}&defaultDeadline=1000` });
      const store = createEsdbEventStore(configured.eventStoreUrl ?? '');
      try {
        await failure(() => store.headPosition());
      } finally {
        await store.close();
      }
      expect(server.seen.completed).toBeGreaterThanOrEqual(1);
      // Without the CA file the same certificate is refused.
      const completed = server.seen.completed;
      const unverified = createEsdbEventStore(`esdb://127.0.0.1:${server.port}?tls=true&defaultDeadline=1000`);
      try {
        await failure(() => unverified.headPosition());
      } finally {
        await unverified.close();
      }
      expect(server.seen.completed).toBe(completed);
    });

    it('TLS is the client default: a connection string without tls= begins a handshake', async () => {
      const store = createEsdbEventStore(`esdb://127.0.0.1:${plain.port}?defaultDeadline=1000`);
      try {
        await failure(() => store.headPosition());
      } finally {
        await store.close();
      }
      expect(plain.seen.began).toBeGreaterThanOrEqual(1);
    });

    it('a cluster connection string (three nodes, gossip) passes the configuration and the client', () => {
      const cluster = `esdb://127.0.0.1:2113,127.0.0.1:2114,127.0.0.1:2115?tls=true&tlsCAFile=${certs.caFile}`;
      const configured = loadConfig({ EVENTSTORE_URL: cluster });
      expect(configured.eventStoreUrl).toBe(cluster);
      expect(() => createEsdbEventStore(cluster)).not.toThrow();
    });
  });
});
