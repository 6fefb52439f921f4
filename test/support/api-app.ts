/**
 * The GraphQL app from the real factory on a real write side (a fresh PostgreSQL database), for
 * `app.inject` tests; plus token minting and a tiny GraphQL client over inject.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/app.js';
import type { ApiDeps } from '../../src/api/app.js';
import { createInspectorDeps } from '../../src/api/inspector/index.js';
import type { ReadSide } from '../../src/api/read-side.js';
import { NO_SHEDDING } from './no-shedding.js';
import { apiSettingsOf } from '../../src/api/settings.js';
import { signToken } from '../../src/api/tokens.js';
import type { Role } from '../../src/api/tokens.js';
import { createApiWriteSide } from '../../src/api/write-side.js';
import { loadConfig } from '../../src/platform/config.js';
import type { Config } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import type { Projection } from '../../src/projections/projection.js';
import { commandsOn, openWriteSide } from './write-side.js';
import type { WriteSide } from './write-side.js';

export const TEST_JWT_SECRET = 'api-test-secret-0123456789abcdef0123456789';

export const silentLogger = () =>
  createLogger({ logLevel: 'silent', nodeEnv: 'test' }, new Writable({ write: (_c, _e, done) => done() }));

export { NO_SHEDDING } from './no-shedding.js';

export const tokenFor = (subject: string, roles: readonly Role[], secret = TEST_JWT_SECRET, expiresInSeconds = 3600): string =>
  signToken({ subject, roles, secret, expiresInSeconds });

/**
 * The app with the write side and the inspector on `side` (no read side): what the inspector tests
 * drive. `inspector: false` builds it without the inspector's store and database (its routes 503).
 */
export const inspectorApp = (side: WriteSide, projections: readonly Projection[], options: { readonly inspector?: boolean } = {}): FastifyInstance => {
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent', ...NO_SHEDDING });
  const { handler, commerce } = commandsOn(side.store);
  return buildApp({
    logger: silentLogger(),
    health: async () => ({ database: 'ok' }),
    api: {
      settings: apiSettingsOf(config),
      write: createApiWriteSide(handler, commerce),
      ready: async () => ({ database: 'ok' }),
      ...(options.inspector === false ? {} : { inspector: createInspectorDeps({ store: side.store, database: side.handle, projections }) }),
    },
  });
};

export interface GraphqlResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly body: {
    readonly data?: Record<string, unknown> | null;
    readonly errors?: ReadonlyArray<{ readonly message: string; readonly extensions?: Record<string, unknown>; readonly path?: readonly unknown[] }>;
  };
}

/** POST /graphql through inject. `token` undefined: no Authorization header. */
export const gql = async (
  app: FastifyInstance,
  query: string,
  variables?: Record<string, unknown>,
  token?: string,
  headers: Record<string, string> = {},
): Promise<GraphqlResponse> => {
  const response = await app.inject({
    method: 'POST',
    url: '/graphql',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
    payload: JSON.stringify({ query, ...(variables === undefined ? {} : { variables }) }),
  });
  return { status: response.statusCode, headers: response.headers, body: response.json() };
};

/** The error codes of a response, in order. */
export const codes = (response: GraphqlResponse): unknown[] => (response.body.errors ?? []).map((e) => e.extensions?.code);

export interface ApiHarness {
  readonly app: FastifyInstance;
  readonly side: WriteSide;
  readonly config: Config;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly env?: Record<string, string>;
  readonly readSide?: ReadSide;
  readonly redis?: Redis;
  readonly clock?: () => Date;
  /** Reuse a write side (several apps = several API processes on one store). */
  readonly side?: WriteSide;
  /** Where the app's JSON log lines go (at LOG_LEVEL from `env`); default: nowhere. */
  readonly logTo?: Writable;
}

export const openApiHarness = async (label: string, options: HarnessOptions = {}): Promise<ApiHarness> => {
  const side = options.side ?? (await openWriteSide(label));
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent', ...NO_SHEDDING, ...options.env });
  const { handler, commerce } = commandsOn(side.store);
  const api: ApiDeps = {
    settings: apiSettingsOf(config),
    write: createApiWriteSide(handler, commerce),
    readSide: options.readSide,
    redis: options.redis,
    ready: async () => ({ database: 'ok', eventstore: 'ok', projections: 'ok' }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  };
  const logger = options.logTo === undefined ? silentLogger() : createLogger(config, options.logTo);
  const app = buildApp({ logger, health: async () => ({ database: 'ok' }), api });
  await app.ready();
  return {
    app,
    side,
    config,
    close: async () => {
      await app.close();
      if (options.side === undefined) await side.close();
    },
  };
};
