/**
 * Every setting Keel reads from the environment, validated once at startup and frozen.
 * A bad value stops startup with one line naming the variable, the value (URL passwords
 * redacted) and what is expected; it is never replaced by a default. An empty string is unset.
 *
 * `VARIABLES` is the single source of `keel config` and of the configuration table in
 * docs/reference/configuration.md (a test checks that it lists every variable with its default).
 */
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { KeelError } from './errors.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type NodeEnv = (typeof NODE_ENVS)[number];

export interface Config {
  readonly port: number;
  /** The projector role's listener (/health, /ready, /metrics). */
  readonly projectorPort: number;
  readonly host: string;
  readonly dataDir: string;
  /** Absent: embedded PGlite under `dataDir`. */
  readonly databaseUrl?: string;
  /** A read replica of `databaseUrl` for the API's queries; absent: queries read `databaseUrl`. */
  readonly databaseReadUrl?: string;
  /** Absent: in-process cache. */
  readonly redisUrl?: string;
  /** Absent: the PostgreSQL event store (on `databaseUrl` or PGlite). */
  readonly eventStoreUrl?: string;
  readonly logLevel: LogLevel;
  readonly nodeEnv: NodeEnv;
  readonly databasePoolSize: number;
  readonly paymentFakeLatencyMs: number;
  readonly paymentFakeFailureRate: number;
  /** An external payment provider (Keel's HTTP protocol); absent: the in-process fake. */
  readonly paymentProviderUrl?: string;
  readonly paymentProviderTimeoutMs: number;
  readonly reservationTtlSeconds: number;
  readonly commandMaxRetries: number;
  /**
   * HS256 secret of the API's bearer tokens; outside production the development secret when unset.
   * Absent only in production without JWT_SECRET: `requireJwtSecret` stops startup then.
   */
  readonly jwtSecret?: string;
  /** True when `jwtSecret` is the built-in development secret (never in production). */
  readonly jwtSecretIsDevelopmentDefault: boolean;
  readonly redisKeyPrefix: string;
  readonly rateLimitMax: number;
  readonly rateLimitWindowMs: number;
  readonly queryMaxDepth: number;
  readonly queryMaxCost: number;
  readonly bodyLimitBytes: number;
  readonly consistencyWaitMs: number;
  /** Longest lifetime (exp - iat) a bearer token may have; longer ones are refused. */
  readonly tokenMaxLifetimeSeconds: number;
  /** fastify's `trustProxy`: false, true, a hop count, or a list of addresses/CIDRs. */
  readonly trustProxy: boolean | number | string;
  readonly wsMaxSubscriptionsPerSocket: number;
  readonly wsMaxSocketsPerClient: number;
  /** Load shedding (src/api/overload.ts): each threshold 0 = not checked. */
  readonly overloadMaxInFlight: number;
  readonly overloadMaxEventLoopDelayMs: number;
  readonly overloadMaxEventLoopUtilization: number;
  readonly overloadMaxHeapUsedBytes: number;
  readonly overloadSampleIntervalMs: number;
  readonly overloadRetryAfterSeconds: number;
  /** OTLP/HTTP endpoint of the trace collector; absent: tracing off. */
  readonly otelExporterOtlpEndpoint?: string;
  readonly otelServiceName: string;
}

/**
 * The secret `JWT_SECRET` falls back to when unset and NODE_ENV is not production. It is public
 * (it is in this file): tokens signed with it prove nothing, which is fine on a developer machine.
 */
export const DEVELOPMENT_JWT_SECRET = 'keel-development-secret-do-not-use-in-production';

const integer = (min: number, max: number) =>
  z.string().regex(/^-?\d+$/).transform(Number).pipe(z.number().int().min(min).max(max));

const fraction = () =>
  z.string().regex(/^(\d+(\.\d*)?|\.\d+)$/).transform(Number).pipe(z.number().min(0).max(1));

/** A URL with one of `schemes`. Checked by pattern: esdb:// may list several hosts, which `URL` rejects. */
const urlWithScheme = (schemes: readonly string[]) =>
  z.string().refine((value) => {
    const match = /^([a-z][a-z0-9+.-]*):\/\/(?:[^@/?#\s]*@)?[^/?#\s@]+(?:[/?#]\S*)?$/i.exec(value);
    return match?.[1] !== undefined && schemes.includes(match[1].toLowerCase());
  });

const envSchema = z.object({
  PORT: integer(0, 65535),
  PROJECTOR_PORT: integer(0, 65535),
  HOST: z.string().regex(/^\S+$/),
  KEEL_DATA_DIR: z.string(),
  DATABASE_URL: urlWithScheme(['postgres', 'postgresql']).optional(),
  DATABASE_READ_URL: urlWithScheme(['postgres', 'postgresql']).optional(),
  REDIS_URL: urlWithScheme(['redis', 'rediss']).optional(),
  EVENTSTORE_URL: urlWithScheme(['esdb', 'esdb+discover']).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS),
  NODE_ENV: z.enum(NODE_ENVS),
  DATABASE_POOL_SIZE: integer(1, 200),
  PAYMENT_FAKE_LATENCY_MS: integer(0, 60_000),
  PAYMENT_FAKE_FAILURE_RATE: fraction(),
  // fetch refuses URLs with credentials.
  PAYMENT_PROVIDER_URL: urlWithScheme(['http', 'https'])
    .refine((value) => URL.canParse(value) && new URL(value).username === '' && new URL(value).password === '')
    .optional(),
  PAYMENT_PROVIDER_TIMEOUT_MS: integer(100, 120_000),
  RESERVATION_TTL_SECONDS: integer(1, 86_400),
  COMMAND_MAX_RETRIES: integer(0, 100),
  JWT_SECRET: z.string().min(32).max(512).optional(),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:._-]{0,64}$/),
  RATE_LIMIT_MAX: integer(1, 1_000_000),
  RATE_LIMIT_WINDOW_MS: integer(100, 86_400_000),
  QUERY_MAX_DEPTH: integer(1, 100),
  QUERY_MAX_COST: integer(1, 1_000_000),
  BODY_LIMIT_BYTES: integer(1024, 10_485_760),
  CONSISTENCY_WAIT_MS: integer(0, 60_000),
  TOKEN_MAX_LIFETIME_SECONDS: integer(60, 31_536_000),
  // An address or CIDR holds a "." or ":"; a bare number is a hop count.
  TRUST_PROXY: z.string().regex(/^(false|true|\d{1,2}|[0-9A-Fa-f]*[.:][0-9A-Fa-f.:/]*(,[0-9A-Fa-f]*[.:][0-9A-Fa-f.:/]*)*)$/),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: integer(1, 10_000),
  WS_MAX_SOCKETS_PER_CLIENT: integer(1, 100_000),
  OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: integer(0, 60_000),
  OVERLOAD_MAX_IN_FLIGHT: integer(0, 1_000_000),
  OVERLOAD_MAX_EVENT_LOOP_UTILIZATION: fraction(),
  OVERLOAD_MAX_HEAP_USED_BYTES: integer(0, 1_099_511_627_776),
  OVERLOAD_SAMPLE_INTERVAL_MS: integer(10, 60_000),
  OVERLOAD_RETRY_AFTER_SECONDS: integer(1, 3600),
  OTEL_EXPORTER_OTLP_ENDPOINT: urlWithScheme(['http', 'https']).optional(),
  OTEL_SERVICE_NAME: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
});

export type VariableName = keyof z.input<typeof envSchema>;

export interface VariableSpec {
  /** The `Config` field the variable sets. */
  readonly key: keyof Config;
  /** Raw default, as it would appear in the environment; absent means "unset is meaningful". */
  readonly default?: string;
  /** What a valid value looks like; completes "must be …". */
  readonly expected: string;
  readonly description: string;
  /** The value may hold a password: shown with the password redacted. */
  readonly secret?: boolean;
  /** The whole value is a secret: never shown, `***` instead. */
  readonly hidden?: boolean;
}

export const VARIABLES: { readonly [K in VariableName]: VariableSpec } = {
  PORT: {
    key: 'port',
    default: '4000',
    expected: 'an integer between 0 and 65535',
    description: 'TCP port of the HTTP API (0 picks a free port).',
  },
  PROJECTOR_PORT: {
    key: 'projectorPort',
    default: '4001',
    expected: 'an integer between 0 and 65535',
    description: 'TCP port of `keel serve --role projector`: it serves `/health`, `/ready` and `/metrics` there, nothing else (0 picks a free port). Other roles serve them on `PORT`.',
  },
  HOST: {
    key: 'host',
    default: '127.0.0.1',
    expected: 'a host name or IP address without spaces',
    description: 'Interface the HTTP API binds to (`0.0.0.0` for all).',
  },
  KEEL_DATA_DIR: {
    key: 'dataDir',
    default: './.keel',
    expected: 'a directory path',
    description: 'Directory of the embedded PGlite database, used when `DATABASE_URL` is unset.',
  },
  DATABASE_URL: {
    key: 'databaseUrl',
    expected: 'a postgres:// or postgresql:// URL',
    description: 'PostgreSQL for read models (and the event store unless `EVENTSTORE_URL` is set). Unset: embedded PGlite.',
    secret: true,
  },
  DATABASE_READ_URL: {
    key: 'databaseReadUrl',
    expected: 'a postgres:// or postgresql:// URL (requires DATABASE_URL)',
    description:
      'A read replica (hot standby) of `DATABASE_URL`: GraphQL queries and their consistency-token waits read it; projectors, the process manager, commands and migrations use `DATABASE_URL`. Unset: queries read `DATABASE_URL`.',
    secret: true,
  },
  REDIS_URL: {
    key: 'redisUrl',
    expected: 'a redis:// or rediss:// URL',
    description: 'Redis for caches and notices. Unset: an in-process cache.',
    secret: true,
  },
  EVENTSTORE_URL: {
    key: 'eventStoreUrl',
    expected: 'an esdb:// or esdb+discover:// URL',
    description: 'EventStoreDB connection string. Unset: the PostgreSQL event store.',
    secret: true,
  },
  LOG_LEVEL: {
    key: 'logLevel',
    default: 'info',
    expected: `one of ${LOG_LEVELS.join(', ')}`,
    description: 'Minimum level of the JSON log lines written to stdout.',
  },
  NODE_ENV: {
    key: 'nodeEnv',
    default: 'development',
    expected: `one of ${NODE_ENVS.join(', ')}`,
    description: 'Runtime mode; use `production` for live deployments.',
  },
  DATABASE_POOL_SIZE: {
    key: 'databasePoolSize',
    default: '16',
    expected: 'an integer between 1 and 200',
    description: 'Maximum PostgreSQL connections per process.',
  },
  PAYMENT_FAKE_LATENCY_MS: {
    key: 'paymentFakeLatencyMs',
    default: '50',
    expected: 'an integer between 0 and 60000',
    description: 'Delay of the fake payment provider, in milliseconds.',
  },
  PAYMENT_FAKE_FAILURE_RATE: {
    key: 'paymentFakeFailureRate',
    default: '0.05',
    expected: 'a decimal number between 0 and 1',
    description: 'Share of payments the fake payment provider declines.',
  },
  PAYMENT_PROVIDER_URL: {
    key: 'paymentProviderUrl',
    expected: 'an http:// or https:// URL without credentials',
    description:
      'Base URL of an external payment provider speaking Keel\'s HTTP protocol (`POST <url>/authorizations`, see docs/domain.md, "Payments"); the process manager calls it instead of the in-process fake. Unset: the in-process fake (`PAYMENT_FAKE_*`).',
    secret: true,
  },
  PAYMENT_PROVIDER_TIMEOUT_MS: {
    key: 'paymentProviderTimeoutMs',
    default: '10000',
    expected: 'an integer between 100 and 120000',
    description: 'How long one call to the payment provider at `PAYMENT_PROVIDER_URL` may take before it counts as unavailable (and is retried with the same idempotency key), in milliseconds.',
  },
  RESERVATION_TTL_SECONDS: {
    key: 'reservationTtlSeconds',
    default: '900',
    expected: 'an integer between 1 and 86400',
    description: 'How long reserved stock is held before the reservation expires.',
  },
  COMMAND_MAX_RETRIES: {
    key: 'commandMaxRetries',
    default: '5',
    expected: 'an integer between 0 and 100',
    description: 'Retries of a command after a concurrency conflict before it fails.',
  },
  JWT_SECRET: {
    key: 'jwtSecret',
    expected: 'a string of 32 to 512 characters (required when NODE_ENV=production)',
    description:
      'HS256 secret that signs and verifies the API bearer tokens. Unset outside production: a fixed, public development secret (`keel token` mints tokens with it).',
    hidden: true,
  },
  REDIS_KEY_PREFIX: {
    key: 'redisKeyPrefix',
    default: 'keel:',
    expected: 'at most 64 letters, digits, ":", ".", "_" or "-"',
    description: 'Prepended to every Redis key Keel writes (rate-limit counters, caches), so several deployments can share one Redis.',
  },
  RATE_LIMIT_MAX: {
    key: 'rateLimitMax',
    default: '600',
    expected: 'an integer between 1 and 1000000',
    description: 'Requests one client (token subject, or IP address without a valid token) may send to `/graphql` per window; shared across processes through Redis when `REDIS_URL` is set.',
  },
  RATE_LIMIT_WINDOW_MS: {
    key: 'rateLimitWindowMs',
    default: '60000',
    expected: 'an integer between 100 and 86400000',
    description: 'Length of the rate-limit window, in milliseconds.',
  },
  QUERY_MAX_DEPTH: {
    key: 'queryMaxDepth',
    default: '8',
    expected: 'an integer between 1 and 100',
    description: 'Deepest selection nesting a GraphQL operation may have.',
  },
  QUERY_MAX_COST: {
    key: 'queryMaxCost',
    default: '2000',
    expected: 'an integer between 1 and 1000000',
    description: 'Highest estimated cost of a GraphQL operation (each field costs 1, a list field multiplies its selection by `first`).',
  },
  BODY_LIMIT_BYTES: {
    key: 'bodyLimitBytes',
    default: '102400',
    expected: 'an integer between 1024 and 10485760',
    description: 'Largest accepted HTTP request body, in bytes.',
  },
  CONSISTENCY_WAIT_MS: {
    key: 'consistencyWaitMs',
    default: '5000',
    expected: 'an integer between 0 and 60000',
    description: 'How long a query given a `consistencyToken` waits for the projections it reads to reach it before failing.',
  },
  TOKEN_MAX_LIFETIME_SECONDS: {
    key: 'tokenMaxLifetimeSeconds',
    default: '86400',
    expected: 'an integer between 60 and 31536000',
    description: 'Longest lifetime a bearer token may have (`exp` minus `iat`, or `exp` minus now without `iat`); a longer-lived token is refused, as is one issued in the future.',
  },
  TRUST_PROXY: {
    key: 'trustProxy',
    default: 'false',
    expected: 'false, true, a number of proxy hops (0-99), or a comma-separated list of proxy addresses or CIDRs',
    description: 'Whether clients are told apart by `X-Forwarded-For` (behind a load balancer) rather than the TCP peer: fastify\'s `trustProxy`. Only set it when a proxy you run strips and rewrites that header.',
  },
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: {
    key: 'wsMaxSubscriptionsPerSocket',
    default: '50',
    expected: 'an integer between 1 and 10000',
    description: 'Subscriptions one WebSocket may hold open at once; one more is refused with `KEEL_ERR_TOO_MANY_SUBSCRIPTIONS`.',
  },
  WS_MAX_SOCKETS_PER_CLIENT: {
    key: 'wsMaxSocketsPerClient',
    default: '20',
    expected: 'an integer between 1 and 100000',
    description: 'WebSockets one client (token subject, or IP address without a token) may hold open on one API process; one more is closed with `KEEL_ERR_TOO_MANY_SOCKETS`.',
  },
  OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: {
    key: 'overloadMaxEventLoopDelayMs',
    default: '200',
    expected: 'an integer between 0 and 60000',
    description: 'Load shedding: while the mean event-loop delay of the last sample is above this many milliseconds, the API answers requests at once with 503 `KEEL_ERR_OVERLOADED` and `Retry-After` (`/health`, `/ready` and `/metrics` excepted). 0: not checked.',
  },
  OVERLOAD_MAX_IN_FLIGHT: {
    key: 'overloadMaxInFlight',
    default: '128',
    expected: 'an integer between 0 and 1000000',
    description: 'Load shedding: HTTP requests one process may run at once; one more is answered 503 KEEL_ERR_OVERLOADED at once. 0: no cap.',
  },
  OVERLOAD_MAX_EVENT_LOOP_UTILIZATION: {
    key: 'overloadMaxEventLoopUtilization',
    default: '0',
    expected: 'a decimal number between 0 and 1',
    description: 'Load shedding: requests are shed while the share of the last sample the event loop was busy is above this. 0: not checked.',
  },
  OVERLOAD_MAX_HEAP_USED_BYTES: {
    key: 'overloadMaxHeapUsedBytes',
    default: '0',
    expected: 'an integer between 0 and 1099511627776',
    description: 'Load shedding: requests are shed while the V8 heap in use is above this many bytes (set it below the heap limit, e.g. 80% of `--max-old-space-size`). 0: not checked.',
  },
  OVERLOAD_SAMPLE_INTERVAL_MS: {
    key: 'overloadSampleIntervalMs',
    default: '500',
    expected: 'an integer between 10 and 60000',
    description: 'How often the load-shedding signals are sampled, in milliseconds; each sample decides whether requests are shed until the next.',
  },
  OVERLOAD_RETRY_AFTER_SECONDS: {
    key: 'overloadRetryAfterSeconds',
    default: '1',
    expected: 'an integer between 1 and 3600',
    description: 'Least `Retry-After` of a shed request; each refusal says a whole number of seconds between this and twice this, so clients refused together do not all return together.',
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    key: 'otelExporterOtlpEndpoint',
    expected: 'an http:// or https:// URL',
    description: 'Turns tracing on: OpenTelemetry spans are sent over OTLP/HTTP to `<url>/v1/traces` (e.g. `http://jaeger:4318`). Unset: no tracing, nothing of the SDK loaded.',
    secret: true,
  },
  OTEL_SERVICE_NAME: {
    key: 'otelServiceName',
    default: 'keel',
    expected: '1 to 64 letters, digits, dots, dashes or underscores',
    description: 'The `service.name` of the spans this process exports (each span also carries `keel.role`).',
  },
};

export const VARIABLE_NAMES = Object.keys(VARIABLES) as VariableName[];

export class ConfigError extends KeelError {
  constructor(
    message: string,
    readonly variables: readonly VariableName[],
  ) {
    super('KEEL_ERR_CONFIG', message, { variables: [...variables] });
    this.name = 'ConfigError';
  }
}

/** `scheme://user:password@host` → `scheme://user:***@host`; also `?password=…`. */
export const redactUrl = (value: string): string =>
  value
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*):[^/?#]*@/i, '$1:***@')
    .replace(/([?&]password=)[^&#]*/gi, '$1***');

const show = (name: VariableName, value: string): string => {
  if (VARIABLES[name].hidden === true) return '"***"';
  const shown = VARIABLES[name].secret === true ? redactUrl(value) : value;
  return JSON.stringify(shown.length > 200 ? `${shown.slice(0, 200)}…` : shown);
};

/** TRUST_PROXY as fastify's `trustProxy` takes it. */
const parseTrustProxy = (value: string): boolean | number | string =>
  value === 'false' ? false : value === 'true' ? true : /^\d+$/.test(value) ? Number(value) : value;

/** Reads, validates and freezes the configuration. Throws `ConfigError` (one line) on a bad value. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  const raw: Partial<Record<VariableName, string>> = {};
  for (const name of VARIABLE_NAMES) {
    const value = env[name];
    const fallback = VARIABLES[name].default;
    if (value !== undefined && value !== '') raw[name] = value;
    else if (fallback !== undefined) raw[name] = fallback;
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const bad = VARIABLE_NAMES.filter((name) => parsed.error.issues.some((issue) => issue.path[0] === name));
    const parts = bad.map((name) => {
      const value = raw[name];
      const expected = VARIABLES[name].expected;
      return value === undefined ? `${name} is not set; it must be ${expected}` : `${name}=${show(name, value)} must be ${expected}`;
    });
    throw new ConfigError(`Invalid configuration: ${parts.join('; ')}`, bad);
  }
  const e = parsed.data;
  if (e.DATABASE_READ_URL !== undefined && e.DATABASE_URL === undefined) {
    throw new ConfigError(
      `Invalid configuration: DATABASE_READ_URL=${show('DATABASE_READ_URL', e.DATABASE_READ_URL)} is set but DATABASE_URL is not; a read replica needs DATABASE_URL (its primary)`,
      ['DATABASE_READ_URL'],
    );
  }
  const jwtSecret = e.JWT_SECRET ?? (e.NODE_ENV === 'production' ? undefined : DEVELOPMENT_JWT_SECRET);
  return Object.freeze({
    port: e.PORT,
    projectorPort: e.PROJECTOR_PORT,
    host: e.HOST,
    dataDir: e.KEEL_DATA_DIR,
    ...(e.DATABASE_URL === undefined ? {} : { databaseUrl: e.DATABASE_URL }),
    ...(e.DATABASE_READ_URL === undefined ? {} : { databaseReadUrl: e.DATABASE_READ_URL }),
    ...(e.REDIS_URL === undefined ? {} : { redisUrl: e.REDIS_URL }),
    ...(e.EVENTSTORE_URL === undefined ? {} : { eventStoreUrl: e.EVENTSTORE_URL }),
    logLevel: e.LOG_LEVEL,
    nodeEnv: e.NODE_ENV,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    paymentFakeLatencyMs: e.PAYMENT_FAKE_LATENCY_MS,
    paymentFakeFailureRate: e.PAYMENT_FAKE_FAILURE_RATE,
    ...(e.PAYMENT_PROVIDER_URL === undefined ? {} : { paymentProviderUrl: e.PAYMENT_PROVIDER_URL }),
    paymentProviderTimeoutMs: e.PAYMENT_PROVIDER_TIMEOUT_MS,
    reservationTtlSeconds: e.RESERVATION_TTL_SECONDS,
    commandMaxRetries: e.COMMAND_MAX_RETRIES,
    ...(jwtSecret === undefined ? {} : { jwtSecret }),
    jwtSecretIsDevelopmentDefault: e.JWT_SECRET === undefined && jwtSecret !== undefined,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    rateLimitMax: e.RATE_LIMIT_MAX,
    rateLimitWindowMs: e.RATE_LIMIT_WINDOW_MS,
    queryMaxDepth: e.QUERY_MAX_DEPTH,
    queryMaxCost: e.QUERY_MAX_COST,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    consistencyWaitMs: e.CONSISTENCY_WAIT_MS,
    tokenMaxLifetimeSeconds: e.TOKEN_MAX_LIFETIME_SECONDS,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    wsMaxSubscriptionsPerSocket: e.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
    wsMaxSocketsPerClient: e.WS_MAX_SOCKETS_PER_CLIENT,
    overloadMaxEventLoopDelayMs: e.OVERLOAD_MAX_EVENT_LOOP_DELAY_MS,
    overloadMaxInFlight: e.OVERLOAD_MAX_IN_FLIGHT,
    overloadMaxEventLoopUtilization: e.OVERLOAD_MAX_EVENT_LOOP_UTILIZATION,
    overloadMaxHeapUsedBytes: e.OVERLOAD_MAX_HEAP_USED_BYTES,
    overloadSampleIntervalMs: e.OVERLOAD_SAMPLE_INTERVAL_MS,
    overloadRetryAfterSeconds: e.OVERLOAD_RETRY_AFTER_SECONDS,
    ...(e.OTEL_EXPORTER_OTLP_ENDPOINT === undefined ? {} : { otelExporterOtlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT }),
    otelServiceName: e.OTEL_SERVICE_NAME,
  });
};

/**
 * The API's token secret. In production JWT_SECRET has no default: the server (and `keel token`)
 * stop here with one line naming it; `keel config` still works without it.
 */
export const requireJwtSecret = (config: Config): string => {
  if (config.jwtSecret !== undefined) return config.jwtSecret;
  throw new ConfigError(`Invalid configuration: JWT_SECRET is not set; it must be ${VARIABLES.JWT_SECRET.expected}`, ['JWT_SECRET']);
};

/** 127.0.0.0/8 and ::1 (node's BlockList also matches their IPv4-mapped and long IPv6 spellings). */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * True when `host` is reachable from this machine only: an address in 127.0.0.0/8, ::1, or the name
 * `localhost`. Any other name is false: it may resolve to a public interface.
 */
export const isLoopbackHost = (host: string): boolean => {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (/^localhost\.?$/i.test(bare)) return true;
  const family = isIP(bare);
  return family !== 0 && LOOPBACK.check(bare, family === 4 ? 'ipv4' : 'ipv6');
};

/**
 * For a process that serves the API: without JWT_SECRET, tokens are signed with the public
 * development secret, so anyone who can reach the server could mint an admin token. Such a server
 * listens on loopback only; any other HOST stops startup here with one line. (Production without
 * JWT_SECRET is refused by `requireJwtSecret`; `keel config` calls neither.)
 */
export const requireSecretBeyondLoopback = (config: Config): void => {
  if (!config.jwtSecretIsDevelopmentDefault || isLoopbackHost(config.host)) return;
  throw new ConfigError(
    `Invalid configuration: HOST=${show('HOST', config.host)} is not a loopback address and JWT_SECRET is not set; ` +
      'without JWT_SECRET tokens are signed with the public development secret, so the API may only listen on loopback ' +
      '(127.0.0.1, ::1, localhost): set JWT_SECRET (32 to 512 characters) or a loopback HOST',
    ['HOST', 'JWT_SECRET'],
  );
};

export interface VariableDescription {
  readonly name: VariableName;
  readonly default: string | undefined;
  readonly expected: string;
  readonly description: string;
  readonly secret: boolean;
}

/** One row per variable, in table order: the source of the configuration table (docs/reference/configuration.md). */
export const describeConfig = (): readonly VariableDescription[] =>
  VARIABLE_NAMES.map((name) => {
    const spec = VARIABLES[name];
    return {
      name,
      default: spec.default,
      expected: spec.expected,
      description: spec.description,
      secret: spec.secret === true,
    };
  });

/** The configuration table of docs/reference/configuration.md, in Markdown. */
export const configTableMarkdown = (): string =>
  [
    '| Variable | Default | Meaning |',
    '|---|---|---|',
    ...describeConfig().map(
      (v) =>
        `| \`${v.name}\` | ${v.default === undefined ? '(unset)' : `\`${v.default}\``} | ${v.description} Must be ${v.expected}. |`,
    ),
  ].join('\n');

export interface ResolvedVariable {
  readonly name: VariableName;
  /** As configured, URL passwords redacted; undefined when unset. */
  readonly value: string | undefined;
  readonly source: 'environment' | 'default' | 'unset';
}

/** The resolved configuration with secrets redacted, for `keel config` and startup logs. */
export const resolvedConfig = (config: Config, env: NodeJS.ProcessEnv = process.env): readonly ResolvedVariable[] =>
  VARIABLE_NAMES.map((name) => {
    const spec = VARIABLES[name];
    const value = config[spec.key];
    const fromEnv = env[name] !== undefined && env[name] !== '';
    if (value === undefined) return { name, value: undefined, source: 'unset' };
    const text = String(value);
    return {
      name,
      value: spec.hidden === true ? '***' : spec.secret === true ? redactUrl(text) : text,
      source: fromEnv ? 'environment' : 'default',
    };
  });
