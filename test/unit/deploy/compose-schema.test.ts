/**
 * docker-compose.yml against the Compose Specification's JSON schema, and what people running it
 * rely on: the services the tests start with `docker compose up -d postgres redis --wait`, Keel
 * built from the Dockerfile with two replicas of each role and a configuration Keel accepts, the
 * observability services wired to Keel and to the files under deploy/. No Docker engine runs
 * here: the file is checked, not run (docs/operations/docker.md).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VARIABLE_NAMES, loadConfig, requireJwtSecret } from '../../../src/platform/config.js';
import { ROOT, at, errorLines, field, isData, list, readYaml, schemaValidator } from './manifests.js';
import type { Data } from './manifests.js';

const compose = readYaml('docker-compose.yml');
const services = field(compose, 'services');
const service = (name: string): Data => field(services, name);
const KEEL_SERVICES = ['keel-api', 'keel-projector'] as const;

/** Compose's interpolation of `${NAME}`, `${NAME-default}` and `${NAME:-default}` with `env`. */
const interpolate = (value: string, env: Readonly<Record<string, string>>): string =>
  value.replace(/\$\{([A-Z0-9_]+)(?:(:?-)([^}]*))?\}/g, (_match, name: string, operator: string | undefined, fallback: string | undefined) => {
    const set = env[name];
    if (operator === ':-') return set === undefined || set === '' ? (fallback ?? '') : set;
    if (operator === '-') return set ?? fallback ?? '';
    return set ?? '';
  });

/** A service's environment as the container gets it, interpolated with `env` (Compose's own environment). */
const environmentOf = (name: string, env: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(field(service(name), 'environment')).map(([key, value]) => [key, interpolate(String(value), env)]));

/** Variables Keel reads besides its validated configuration (OpenTelemetry's). */
const OTEL_VARIABLES = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME'];

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification JSON schema', () => {
    const validate = schemaValidator('compose-spec.json');
    const valid = validate(compose);
    expect(errorLines(validate.errors)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is checked strictly: the schema refuses a misspelled key and a wrongly typed value', () => {
    const validate = schemaValidator('compose-spec.json');
    const misspelled = structuredClone(compose);
    field(field(field(misspelled, 'services'), 'keel-api'), 'deploy').replica = 2;
    expect(validate(misspelled)).toBe(false);
    const mistyped = structuredClone(compose);
    field(field(mistyped, 'services'), 'postgres').healthcheck = 'pg_isready';
    expect(validate(mistyped)).toBe(false);
  });

  it('keeps `docker compose up -d postgres redis --wait` working: both have a health check and publish their default port', () => {
    for (const [name, port] of [['postgres', '5432:5432'], ['redis', '6379:6379']] as const) {
      expect(at(service(name), 'healthcheck'), `${name} needs a health check for --wait`).toBeDefined();
      expect(list(service(name), 'ports'), `${name}: scripts/with-services.mjs connects to 127.0.0.1`).toContain(port);
    }
  });

  it('runs both Keel roles from the image the Dockerfile builds, two replicas each', () => {
    for (const [name, role] of [['keel-api', 'api'], ['keel-projector', 'projector']] as const) {
      const keel = service(name);
      expect(keel.build, name).toBe('.');
      expect(keel.command, name).toEqual(['serve', '--role', role]);
      expect(at(keel, 'deploy.replicas'), name).toBe(2);
    }
    expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
  });

  it('publishes the API replicas on a host port range with one port per replica, and no fixed port for the projector', () => {
    const replicas = Number(at(service('keel-api'), 'deploy.replicas'));
    const published = list(service('keel-api'), 'ports').map(String);
    expect(published).toHaveLength(1);
    const match = /^(\d+)-(\d+):4000$/.exec(published[0] ?? '');
    expect(match, `keel-api ports: ${published.join(', ')}`).not.toBeNull();
    expect(Number(match?.[2]) - Number(match?.[1]) + 1).toBeGreaterThanOrEqual(replicas);
    expect(list(service('keel-projector'), 'ports')).toEqual([]);
  });

  it("gives each Keel role a configuration Keel accepts (JWT_SECRET from the caller's environment), on the compose services", () => {
    const caller = { JWT_SECRET: 'a'.repeat(64) };
    for (const name of KEEL_SERVICES) {
      const env = environmentOf(name, caller);
      const config = loadConfig(env);
      expect(config.nodeEnv, name).toBe('production');
      expect(config.host, name).toBe('0.0.0.0');
      expect(new URL(config.databaseUrl ?? '').hostname, name).toBe('postgres');
      expect(new URL(config.redisUrl ?? '').hostname, name).toBe('redis');
      expect(config.eventStoreUrl, name).toBe('esdb://eventstore:2113?tls=false');
    }
    // KEEL_COMPOSE_EVENTSTORE_URL= (set but empty) keeps the events in PostgreSQL.
    expect(loadConfig(environmentOf('keel-api', { ...caller, KEEL_COMPOSE_EVENTSTORE_URL: '' })).eventStoreUrl).toBeUndefined();
  });

  it('stops the API at startup, naming JWT_SECRET, when the caller gives none or a short one', () => {
    expect(() => requireJwtSecret(loadConfig(environmentOf('keel-api', {})))).toThrow(/JWT_SECRET/);
    expect(() => loadConfig(environmentOf('keel-api', { JWT_SECRET: 'short' }))).toThrow(/JWT_SECRET/);
  });

  it('sets only variables Keel reads', () => {
    const known = new Set<string>([...VARIABLE_NAMES, ...OTEL_VARIABLES]);
    for (const name of KEEL_SERVICES) {
      expect(Object.keys(field(service(name), 'environment')).filter((key) => !known.has(key)), name).toEqual([]);
    }
  });

  it('sends both roles\' traces to the jaeger service over OTLP/HTTP (4318)', () => {
    for (const name of KEEL_SERVICES) {
      const endpoint = new URL(environmentOf(name, {}).OTEL_EXPORTER_OTLP_ENDPOINT ?? '');
      expect(endpoint.hostname, name).toBe('jaeger');
      expect(endpoint.port, name).toBe('4318');
    }
    expect(String(service('jaeger').image)).toMatch(/^jaegertracing\/all-in-one:\d/);
  });

  it('mounts the Prometheus configuration and rules, and the Grafana provisioning and dashboards, from deploy/', () => {
    const mounts = (name: string): string[] => list(service(name), 'volumes').map(String);
    expect(mounts('prometheus')).toEqual(
      expect.arrayContaining([
        './deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
        './deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro',
      ]),
    );
    expect(mounts('grafana')).toEqual(
      expect.arrayContaining([
        './deploy/grafana/provisioning:/etc/grafana/provisioning:ro',
        './deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro',
      ]),
    );
  });

  it('bind-mounts only files and folders that exist in the repository', () => {
    const sources = Object.values(services).flatMap((definition) =>
      list(definition, 'volumes')
        .map(String)
        .filter((volume) => volume.startsWith('./'))
        .map((volume) => volume.split(':')[0] ?? ''),
    );
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((source) => !existsSync(join(ROOT, source)))).toEqual([]);
  });

  it('waits only on services that exist, and for health only on services with a health check', () => {
    for (const [name, definition] of Object.entries(services)) {
      const dependsOn = at(definition, 'depends_on');
      for (const [dependency, condition] of Object.entries(isData(dependsOn) ? dependsOn : {})) {
        expect(Object.keys(services), `${name} depends on ${dependency}`).toContain(dependency);
        if (at(condition, 'condition') === 'service_healthy') {
          expect(at(services[dependency], 'healthcheck'), `${name} waits for ${dependency} to be healthy`).toBeDefined();
        }
      }
    }
  });

  it('pins every image to a version tag (no latest, no untagged image)', () => {
    for (const [name, definition] of Object.entries(services)) {
      const image = String(at(definition, 'image'));
      expect(image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(image, name).not.toMatch(/:latest$/);
    }
  });
});
