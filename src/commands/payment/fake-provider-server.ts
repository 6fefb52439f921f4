/**
 * FAKE: an HTTP server speaking Keel's payment-provider protocol (http-protocol.ts) in front of a
 * `FakePaymentProvider`, for tests and load tests that need the provider outside Keel's process
 * (it remembers idempotency keys while Keel is killed and restarted). Never a real provider.
 *
 *   POST /authorizations   the protocol: 200 answer, 409 key reused, 400 malformed request
 *   PUT  /control          { latencyMs?, failureRate? }: changes later first-time answers; keys
 *                          already seen keep their answer. Answers the settings now in force.
 *   GET  /stats            { calls, charges, declines, keys }
 *   GET  /charges          the payment ids charged (authorized), in order: an id twice is a double charge
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { FakePaymentProvider, IdempotencyKeyReusedError, type FakePaymentProviderSettings, type LatencyMs } from './fake-provider.js';
import { AUTHORIZATIONS_PATH, authorizationBodySchema, IDEMPOTENCY_KEY_HEADER, idempotencyKeySchema } from './http-protocol.js';

export interface FakeProviderServerOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Defaults to 127.0.0.1. */
  readonly host?: string;
  readonly latencyMs?: LatencyMs;
  readonly failureRate?: number;
}

export interface FakeProviderStats {
  readonly calls: number;
  readonly charges: number;
  readonly declines: number;
  readonly keys: number;
}

export interface FakeProviderServer {
  /** Base URL for PAYMENT_PROVIDER_URL, e.g. http://127.0.0.1:43121 (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** The provider behind the server, for in-process callers. */
  readonly provider: FakePaymentProvider;
  /** Stops listening and drops open connections (in-flight calls see a network error). */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

const latencySchema = z.union([
  z.number().int().min(0),
  z.object({ min: z.number().int().min(0), max: z.number().int().min(0) }),
]);
const controlSchema = z.object({ latencyMs: latencySchema.optional(), failureRate: z.number().min(0).max(1).optional() }).strict();

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

const readJson = async (req: IncomingMessage): Promise<unknown> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpFailure(413, 'body_too_large', `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpFailure(400, 'malformed_request', 'body is not JSON');
  }
};

const parse = <T>(schema: z.ZodType<T>, value: unknown): T => {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new HttpFailure(400, 'malformed_request', issue === undefined ? 'invalid' : `${issue.path.join('.') || 'body'}: ${issue.message}`);
};

const send = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

export const startFakeProviderServer = async (options: FakeProviderServerOptions = {}): Promise<FakeProviderServer> => {
  const provider = new FakePaymentProvider({
    ...(options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs }),
    ...(options.failureRate === undefined ? {} : { failureRate: options.failureRate }),
  });

  const authorize = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const key = idempotencyKeySchema.safeParse(req.headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()]);
    if (!key.success) throw new HttpFailure(400, 'malformed_request', `one ${IDEMPOTENCY_KEY_HEADER} header of 1 to 255 characters is required`);
    const body = parse(authorizationBodySchema, await readJson(req));
    try {
      send(res, 200, await provider.authorize({ ...body, idempotencyKey: key.data }));
    } catch (error) {
      if (error instanceof IdempotencyKeyReusedError) throw new HttpFailure(409, 'idempotency_key_reused', error.message);
      throw error;
    }
  };

  const control = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { latencyMs, failureRate } = parse(controlSchema, await readJson(req));
    const settings: FakePaymentProviderSettings = {
      ...(latencyMs === undefined ? {} : { latencyMs }),
      ...(failureRate === undefined ? {} : { failureRate }),
    };
    try {
      provider.configure(settings);
    } catch (error) {
      if (error instanceof RangeError) throw new HttpFailure(400, 'malformed_request', error.message);
      throw error;
    }
    send(res, 200, provider.settings);
  };

  const stats = (): FakeProviderStats => ({ calls: provider.calls, charges: provider.charges, declines: provider.declines, keys: provider.keys });

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const method = req.method ?? 'GET';
    if (path === AUTHORIZATIONS_PATH && method === 'POST') return authorize(req, res);
    if (path === '/control' && method === 'PUT') return control(req, res);
    if (path === '/stats' && method === 'GET') return send(res, 200, stats());
    if (path === '/charges' && method === 'GET') return send(res, 200, provider.chargedPaymentIds);
    throw new HttpFailure(404, 'not_found', `no route ${method} ${path}`);
  };

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (error instanceof HttpFailure) send(res, error.status, { error: error.error, message: error.message });
      else send(res, 500, { error: 'internal', message: error instanceof Error ? error.message : String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the fake payment provider is not listening on TCP');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    provider,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
};
