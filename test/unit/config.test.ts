import { describe, expect, it } from 'vitest';
import { ConfigError, DEVELOPMENT_JWT_SECRET, VARIABLE_NAMES, describeConfig, loadConfig, redactUrl, resolvedConfig } from '../../src/platform/config.js';
import type { Config, VariableName } from '../../src/platform/config.js';

interface Case {
  readonly key: keyof Config;
  readonly default: Config[keyof Config];
  readonly good: ReadonlyArray<readonly [string, Config[keyof Config]]>;
  readonly bad: readonly string[];
  /** Other variables a value of this one needs (DATABASE_READ_URL needs DATABASE_URL). */
  readonly with?: NodeJS.ProcessEnv;
}

const cases: { readonly [K in VariableName]: Case } = {
  PORT: { key: 'port', default: 4000, good: [['8080', 8080], ['0', 0], ['65535', 65535]], bad: ['abc', '-1', '65536', '80.5', '8080 ', '1e3'] },
  PROJECTOR_PORT: { key: 'projectorPort', default: 4001, good: [['9464', 9464], ['0', 0]], bad: ['abc', '-1', '65536'] },
  HOST: { key: 'host', default: '127.0.0.1', good: [['0.0.0.0', '0.0.0.0'], ['::', '::'], ['localhost', 'localhost']], bad: ['local host', ' '] },
  KEEL_DATA_DIR: { key: 'dataDir', default: './.keel', good: [['/var/lib/keel', '/var/lib/keel']], bad: [] },
  DATABASE_URL: {
    key: 'databaseUrl',
    default: undefined,
    good: [
      ['postgres://u:p@db:5432/keel', 'postgres://u:p@db:5432/keel'],
      ['postgresql://localhost/keel', 'postgresql://localhost/keel'],
    ],
    bad: ['mysql://u:p@db/keel', 'db:5432', 'postgres://'],
  },
  DATABASE_READ_URL: {
    key: 'databaseReadUrl',
    default: undefined,
    good: [
      ['postgres://u:p@replica:5432/keel', 'postgres://u:p@replica:5432/keel'],
      ['postgresql://replica/keel', 'postgresql://replica/keel'],
    ],
    bad: ['mysql://u:p@replica/keel', 'replica:5432', 'postgres://'],
    with: { DATABASE_URL: 'postgres://u:p@db:5432/keel' },
  },
  REDIS_URL: {
    key: 'redisUrl',
    default: undefined,
    good: [['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'], ['rediss://:pw@cache:6380/2', 'rediss://:pw@cache:6380/2']],
    bad: ['http://cache:6379', 'cache:6379'],
  },
  EVENTSTORE_URL: {
    key: 'eventStoreUrl',
    default: undefined,
    good: [
      ['esdb://localhost:2113?tls=false', 'esdb://localhost:2113?tls=false'],
      ['esdb://a:2113,b:2113,c:2113?tls=false', 'esdb://a:2113,b:2113,c:2113?tls=false'],
      ['esdb+discover://admin:changeit@cluster.dns:2113', 'esdb+discover://admin:changeit@cluster.dns:2113'],
    ],
    bad: ['http://localhost:2113', 'localhost:2113'],
  },
  LOG_LEVEL: { key: 'logLevel', default: 'info', good: [['debug', 'debug'], ['silent', 'silent']], bad: ['loud', 'INFO'] },
  NODE_ENV: { key: 'nodeEnv', default: 'development', good: [['production', 'production'], ['test', 'test']], bad: ['staging'] },
  DATABASE_POOL_SIZE: { key: 'databasePoolSize', default: 16, good: [['1', 1], ['200', 200]], bad: ['0', '201', 'ten', '4.5'] },
  PAYMENT_FAKE_LATENCY_MS: { key: 'paymentFakeLatencyMs', default: 50, good: [['0', 0], ['250', 250]], bad: ['-5', 'fast', '60001'] },
  PAYMENT_FAKE_FAILURE_RATE: {
    key: 'paymentFakeFailureRate',
    default: 0.05,
    good: [['0', 0], ['1', 1], ['0.5', 0.5], ['.25', 0.25]],
    bad: ['1.5', '-0.1', '5%', 'half'],
  },
  PAYMENT_PROVIDER_URL: {
    key: 'paymentProviderUrl',
    default: undefined,
    good: [
      ['http://127.0.0.1:4100', 'http://127.0.0.1:4100'],
      ['https://payments.example.com/keel/v1', 'https://payments.example.com/keel/v1'],
    ],
    bad: ['ftp://payments.example.com', 'payments.example.com:4100', 'http://', 'https://user:secret@payments.example.com'],
  },
  PAYMENT_PROVIDER_TIMEOUT_MS: { key: 'paymentProviderTimeoutMs', default: 10_000, good: [['100', 100], ['2500', 2500]], bad: ['99', '120001', '10s'] },
  RESERVATION_TTL_SECONDS: { key: 'reservationTtlSeconds', default: 900, good: [['60', 60]], bad: ['0', '15m', '86401'] },
  COMMAND_MAX_RETRIES: { key: 'commandMaxRetries', default: 5, good: [['0', 0], ['10', 10]], bad: ['-1', 'many', '101'] },
  JWT_SECRET: { key: 'jwtSecret', default: DEVELOPMENT_JWT_SECRET, good: [['x'.repeat(32), 'x'.repeat(32)]], bad: ['too-short', 'x'.repeat(513)] },
  REDIS_KEY_PREFIX: { key: 'redisKeyPrefix', default: 'keel:', good: [['shop-1:', 'shop-1:']], bad: ['has space', 'x'.repeat(65)] },
  RATE_LIMIT_MAX: { key: 'rateLimitMax', default: 600, good: [['1', 1], ['1000000', 1_000_000]], bad: ['0', 'many', '1000001'] },
  RATE_LIMIT_WINDOW_MS: { key: 'rateLimitWindowMs', default: 60_000, good: [['1000', 1000]], bad: ['99', '1m', '86400001'] },
  QUERY_MAX_DEPTH: { key: 'queryMaxDepth', default: 8, good: [['12', 12]], bad: ['0', '101', 'deep'] },
  QUERY_MAX_COST: { key: 'queryMaxCost', default: 2000, good: [['50', 50]], bad: ['0', 'cheap', '1000001'] },
  BODY_LIMIT_BYTES: { key: 'bodyLimitBytes', default: 102_400, good: [['1024', 1024]], bad: ['1023', '10485761', '100kb'] },
  CONSISTENCY_WAIT_MS: { key: 'consistencyWaitMs', default: 5000, good: [['0', 0], ['60000', 60_000]], bad: ['-1', '60001', '5s'] },
  TOKEN_MAX_LIFETIME_SECONDS: { key: 'tokenMaxLifetimeSeconds', default: 86_400, good: [['3600', 3600]], bad: ['59', '1d', '31536001'] },
  TRUST_PROXY: {
    key: 'trustProxy',
    default: false,
    good: [['true', true], ['false', false], ['1', 1], ['10.0.0.0/8,127.0.0.1', '10.0.0.0/8,127.0.0.1'], ['::1', '::1']],
    bad: ['yes', '10.0.0.0/8, 127.0.0.1', '100'],
  },
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: { key: 'wsMaxSubscriptionsPerSocket', default: 50, good: [['1', 1]], bad: ['0', '10001', 'many'] },
  WS_MAX_SOCKETS_PER_CLIENT: { key: 'wsMaxSocketsPerClient', default: 20, good: [['1', 1]], bad: ['0', '100001', 'many'] },
  OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: { key: 'overloadMaxEventLoopDelayMs', default: 200, good: [['0', 0], ['50', 50], ['60000', 60_000]], bad: ['-1', '60001', '200ms', '0.5'] },
  OVERLOAD_MAX_IN_FLIGHT: { key: 'overloadMaxInFlight', default: 128, good: [['0', 0], ['1', 1], ['1000000', 1_000_000]], bad: ['-1', '1000001', '1.5', 'many'] },
  OVERLOAD_MAX_EVENT_LOOP_UTILIZATION: {
    key: 'overloadMaxEventLoopUtilization',
    default: 0,
    good: [['0', 0], ['0.9', 0.9], ['1', 1], ['.95', 0.95]],
    bad: ['1.01', '-0.1', '98%', 'busy'],
  },
  OVERLOAD_MAX_HEAP_USED_BYTES: {
    key: 'overloadMaxHeapUsedBytes',
    default: 0,
    good: [['0', 0], ['1610612736', 1_610_612_736]],
    bad: ['-1', '1099511627777', '1.5GB', '1e9'],
  },
  OVERLOAD_SAMPLE_INTERVAL_MS: { key: 'overloadSampleIntervalMs', default: 500, good: [['10', 10], ['1000', 1000]], bad: ['9', '60001', '0', '1s'] },
  OVERLOAD_RETRY_AFTER_SECONDS: { key: 'overloadRetryAfterSeconds', default: 1, good: [['1', 1], ['3600', 3600]], bad: ['0', '3601', '2s'] },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    key: 'otelExporterOtlpEndpoint',
    default: undefined,
    good: [['http://jaeger:4318', 'http://jaeger:4318'], ['https://otel.example.com', 'https://otel.example.com']],
    bad: ['jaeger:4318', 'grpc://jaeger:4317'],
  },
  OTEL_SERVICE_NAME: { key: 'otelServiceName', default: 'keel', good: [['keel-api', 'keel-api']], bad: ['keel api', 'x'.repeat(65)] },
};

const errorOf = (env: NodeJS.ProcessEnv): ConfigError => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('covers every variable of the schema in this test', () => {
    expect(Object.keys(cases).sort()).toEqual([...VARIABLE_NAMES].sort());
  });

  for (const name of VARIABLE_NAMES) {
    const c = cases[name];
    describe(name, () => {
      it('has its default when unset', () => {
        expect(loadConfig({})[c.key]).toEqual(c.default);
      });

      it('treats an empty string as unset', () => {
        expect(loadConfig({ [name]: '' })[c.key]).toEqual(c.default);
      });

      for (const [raw, parsed] of c.good) {
        it(`accepts ${JSON.stringify(raw)}`, () => {
          expect(loadConfig({ ...c.with, [name]: raw })[c.key]).toEqual(parsed);
        });
      }

      for (const raw of c.bad) {
        it(`rejects ${JSON.stringify(raw)} with one line naming ${name}`, () => {
          const error = errorOf({ ...c.with, [name]: raw });
          expect(error.code).toBe('KEEL_ERR_CONFIG');
          expect(error.variables).toEqual([name]);
          expect(error.message).toMatch(new RegExp(`^Invalid configuration: ${name}=".*" must be .+$`));
          expect(error.message).not.toContain('\n');
          expect(error.message).toContain(describeConfig().find((v) => v.name === name)?.expected);
        });
      }
    });
  }

  it('writes the message of the example', () => {
    expect(errorOf({ PORT: 'abc' }).message).toBe('Invalid configuration: PORT="abc" must be an integer between 0 and 65535');
  });

  it('names every bad variable on the same line', () => {
    const error = errorOf({ PORT: 'abc', LOG_LEVEL: 'loud' });
    expect(error.variables).toEqual(['PORT', 'LOG_LEVEL']);
    expect(error.message.split('\n')).toHaveLength(1);
    expect(error.message).toContain('PORT="abc"');
    expect(error.message).toContain('LOG_LEVEL="loud" must be one of fatal, error, warn, info, debug, trace, silent');
  });

  it('redacts the password of a bad URL in the message', () => {
    const message = errorOf({ DATABASE_URL: 'mysql://keel:hunter2@db:3306/keel' }).message;
    expect(message).toBe('Invalid configuration: DATABASE_URL="mysql://keel:***@db:3306/keel" must be a postgres:// or postgresql:// URL');
    expect(errorOf({ REDIS_URL: 'http://:hunter2@cache' }).message).not.toContain('hunter2');
    expect(errorOf({ EVENTSTORE_URL: 'tcp://admin:hunter2@es:1113' }).message).not.toContain('hunter2');
  });

  it('refuses DATABASE_READ_URL without DATABASE_URL, naming it, with the password redacted', () => {
    const error = errorOf({ DATABASE_READ_URL: 'postgres://keel:hunter2@replica:5432/keel' });
    expect(error.code).toBe('KEEL_ERR_CONFIG');
    expect(error.variables).toEqual(['DATABASE_READ_URL']);
    expect(error.message).toBe(
      'Invalid configuration: DATABASE_READ_URL="postgres://keel:***@replica:5432/keel" is set but DATABASE_URL is not; a read replica needs DATABASE_URL (its primary)',
    );
    const both = loadConfig({ DATABASE_URL: 'postgres://keel:p@db/keel', DATABASE_READ_URL: 'postgres://keel:p@replica/keel' });
    expect(both).toMatchObject({ databaseUrl: 'postgres://keel:p@db/keel', databaseReadUrl: 'postgres://keel:p@replica/keel' });
  });

  it('never replaces a bad value with the default', () => {
    expect(() => loadConfig({ PORT: 'abc', DATABASE_POOL_SIZE: '16' })).toThrow(ConfigError);
  });

  it('returns a frozen object and ignores unrelated variables', () => {
    const config = loadConfig({ PATH: '/usr/bin', PORT: '4001' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(config.port).toBe(4001);
    expect('databaseUrl' in config).toBe(false);
  });
});

describe('redaction', () => {
  it('hides URL passwords, keeps the rest', () => {
    expect(redactUrl('postgres://keel:s3cret@db:5432/keel')).toBe('postgres://keel:***@db:5432/keel');
    expect(redactUrl('redis://:s3cret@cache:6379')).toBe('redis://:***@cache:6379');
    expect(redactUrl('postgres://keel:p@ss@db/keel')).toBe('postgres://keel:***@db/keel');
    expect(redactUrl('postgres://db/keel?user=keel&password=s3cret')).toBe('postgres://db/keel?user=keel&password=***');
    expect(redactUrl('esdb://localhost:2113?tls=false')).toBe('esdb://localhost:2113?tls=false');
  });

  it('resolvedConfig redacts secrets and says where each value came from', () => {
    const env = { DATABASE_URL: 'postgres://keel:s3cret@db:5432/keel', PORT: '4001' };
    const rows = resolvedConfig(loadConfig(env), env);
    expect(rows.map((r) => r.name)).toEqual(VARIABLE_NAMES);
    expect(rows.find((r) => r.name === 'DATABASE_URL')).toEqual({
      name: 'DATABASE_URL',
      value: 'postgres://keel:***@db:5432/keel',
      source: 'environment',
    });
    expect(rows.find((r) => r.name === 'PORT')?.source).toBe('environment');
    expect(rows.find((r) => r.name === 'HOST')).toEqual({ name: 'HOST', value: '127.0.0.1', source: 'default' });
    expect(rows.find((r) => r.name === 'REDIS_URL')).toEqual({ name: 'REDIS_URL', value: undefined, source: 'unset' });
    expect(JSON.stringify(rows)).not.toContain('s3cret');
  });
});
