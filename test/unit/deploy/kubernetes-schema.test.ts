/**
 * deploy/kubernetes/ (kustomize): every manifest against the Kubernetes 1.30 JSON schemas (strict:
 * an unknown field fails), the kustomization against SchemaStore's schema, and what operators rely
 * on: probes on Keel's paths and ports, resources on every container, a default-deny network with
 * only the API open to the ingress controller, an Ingress that routes no internal path, a Secret
 * with the keys Keel's pods read, an autoscaler on the API, and a configuration Keel accepts. No
 * cluster runs here: the manifests are checked, not applied (docs/operations/kubernetes.md).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { VARIABLES, VARIABLE_NAMES, loadConfig, requireJwtSecret } from '../../../src/platform/config.js';
import { ROOT, at, errorLines, field, isData, list, readYaml, readYamlDocuments, schemaValidator } from './manifests.js';
import type { Data } from './manifests.js';

const DIR = 'deploy/kubernetes';
const KUBERNETES_SCHEMAS = 'kubernetes-v1.30.0-standalone-strict';

const kustomization = readYaml(`${DIR}/kustomization.yaml`);
const resourceFiles = list(kustomization, 'resources').map(String);
const manifests = resourceFiles.flatMap((file) => readYamlDocuments(`${DIR}/${file}`).map((manifest) => ({ file, manifest })));

const kindOf = (manifest: Data): string => String(manifest.kind);
const nameOf = (manifest: Data): string => String(at(manifest, 'metadata.name'));
const ofKind = (kind: string): Data[] => manifests.map((m) => m.manifest).filter((m) => kindOf(m) === kind);
const one = (kind: string, name: string): Data => {
  const found = ofKind(kind).find((m) => nameOf(m) === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} in ${DIR}`);
  return found;
};

/** yannh/kubernetes-json-schema's file name for a kind: `deployment-apps-v1.json`, `service-v1.json`. */
const schemaFileOf = (manifest: Data): string => {
  const [group, version] = String(manifest.apiVersion).includes('/') ? String(manifest.apiVersion).split('/') : ['', String(manifest.apiVersion)];
  const groupPart = group === '' ? '' : `-${(group ?? '').split('.')[0] ?? ''}`;
  return `${KUBERNETES_SCHEMAS}/${kindOf(manifest).toLowerCase()}${groupPart}-${version ?? ''}.json`;
};
const validators = new Map<string, ValidateFunction>();
const validatorFor = (file: string): ValidateFunction => {
  let validate = validators.get(file);
  if (validate === undefined) {
    validate = schemaValidator(file);
    validators.set(file, validate);
  }
  return validate;
};

const configMap = field(one('ConfigMap', 'keel-config'), 'data');
const secret = field(one('Secret', 'keel-secrets'), 'stringData');
const deployment = { api: one('Deployment', 'keel-api'), projector: one('Deployment', 'keel-projector') };
const podSpecOf = (d: Data): Data => field(field(field(d, 'spec'), 'template'), 'spec');
const containerOf = (d: Data): Data => {
  const containers = list(podSpecOf(d), 'containers');
  expect(containers).toHaveLength(1);
  const [container] = containers;
  if (!isData(container)) throw new Error(`${nameOf(d)}: no container`);
  return container;
};
const podLabelsOf = (d: Data): Data => field(field(field(field(d, 'spec'), 'template'), 'metadata'), 'labels');
const containerPort = (container: Data, port: unknown): number => {
  const found = list(container, 'ports').find((p) => at(p, 'name') === port || at(p, 'containerPort') === port);
  if (found === undefined) throw new Error(`no container port ${String(port)}`);
  return Number(at(found, 'containerPort'));
};

/**
 * The environment a Deployment's container gets: the ConfigMap (envFrom), then its own `env`,
 * secretKeyRefs read from the Secret template (`secretValues`, to replace placeholders).
 */
const environmentOf = (d: Data, secretValues: Data = secret): Record<string, string> => {
  const env: Record<string, string> = {};
  for (const source of list(containerOf(d), 'envFrom')) {
    expect(at(source, 'configMapRef.name')).toBe('keel-config');
    for (const [key, value] of Object.entries(configMap)) env[key] = String(value);
  }
  for (const variable of list(containerOf(d), 'env')) {
    const name = String(at(variable, 'name'));
    const ref = at(variable, 'valueFrom.secretKeyRef');
    if (ref === undefined) env[name] = String(at(variable, 'value'));
    else if (secretValues[String(at(ref, 'key'))] !== undefined) env[name] = String(secretValues[String(at(ref, 'key'))]);
  }
  return env;
};

/** nginx's size syntax: 100k = 102400 bytes. */
const nginxBytes = (size: string): number => {
  const match = /^(\d+)([kKmMgG]?)$/.exec(size);
  if (match === null) throw new Error(`not an nginx size: ${size}`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase()] ?? Number.NaN;
  return Number(match[1]) * unit;
};

/** Keel's default for a variable, from its configuration (src/platform/config.ts). */
const keelDefault = (name: string): string | undefined => Object.entries(VARIABLES).find(([variable]) => variable === name)?.[1].default;

describe('deploy/kubernetes: schemas', () => {
  it('kustomization.yaml is valid against its JSON schema (SchemaStore)', () => {
    const validate = schemaValidator('kustomization.json');
    const valid = validate(kustomization);
    expect(errorLines(validate.errors)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('kustomization.yaml lists every manifest of the folder, and each one exists', () => {
    const files = readdirSync(join(ROOT, DIR)).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect([...resourceFiles].sort()).toEqual(files.sort());
  });

  for (const { file, manifest } of manifests) {
    it(`${file}: ${kindOf(manifest)} ${nameOf(manifest)} is valid against the Kubernetes 1.30 schema (strict)`, () => {
      const validate = validatorFor(schemaFileOf(manifest));
      const valid = validate(manifest);
      expect(errorLines(validate.errors)).toEqual([]);
      expect(valid).toBe(true);
    });
  }

  it('is checked strictly: the schema refuses an unknown field and a wrongly typed value', () => {
    const validate = validatorFor(schemaFileOf(deployment.api));
    const misspelled = structuredClone(deployment.api);
    field(misspelled, 'spec').replica = 2;
    expect(validate(misspelled)).toBe(false);
    const mistyped = structuredClone(deployment.api);
    field(containerOf(mistyped), 'resources').limits = '512Mi';
    expect(validate(mistyped)).toBe(false);
  });
});

describe('deploy/kubernetes: what operators rely on', () => {
  it('runs the API and the projector as separate Deployments of the same image, each with its role', () => {
    expect(containerOf(deployment.api).args).toEqual(['serve', '--role', 'api']);
    expect(containerOf(deployment.projector).args).toEqual(['serve', '--role', 'projector']);
    expect(containerOf(deployment.api).image).toBe(containerOf(deployment.projector).image);
    expect(list(kustomization, 'images').map((image) => at(image, 'name'))).toContain(containerOf(deployment.api).image);
  });

  it("probes Keel's paths on Keel's ports: /health for liveness, /ready for readiness (the API on PORT, the projector on PROJECTOR_PORT)", () => {
    for (const [role, d, variable] of [['api', deployment.api, 'PORT'], ['projector', deployment.projector, 'PROJECTOR_PORT']] as const) {
      const container = containerOf(d);
      const port = Number(environmentOf(d)[variable]);
      expect(String(port), `${role}: ${variable} in the ConfigMap is Keel's default`).toBe(keelDefault(variable));
      for (const [probe, path] of [['startupProbe', '/health'], ['livenessProbe', '/health'], ['readinessProbe', '/ready']] as const) {
        expect(at(container, `${probe}.httpGet.path`), `${role} ${probe}`).toBe(path);
        expect(containerPort(container, at(container, `${probe}.httpGet.port`)), `${role} ${probe}`).toBe(port);
      }
    }
  });

  it('gives every container CPU and memory requests and limits', () => {
    for (const d of ofKind('Deployment')) {
      for (const container of list(podSpecOf(d), 'containers')) {
        for (const kind of ['requests', 'limits']) {
          for (const resource of ['cpu', 'memory']) {
            expect(at(container, `resources.${kind}.${resource}`), `${nameOf(d)} ${kind}.${resource}`).toBeDefined();
          }
        }
      }
    }
  });

  it('runs every pod as a non-root user with a read-only root filesystem, no privilege escalation and no capabilities', () => {
    for (const d of ofKind('Deployment')) {
      const pod = podSpecOf(d);
      expect(at(pod, 'securityContext.runAsNonRoot'), nameOf(d)).toBe(true);
      expect(Number(at(pod, 'securityContext.runAsUser')), nameOf(d)).toBeGreaterThan(0);
      expect(at(pod, 'securityContext.seccompProfile.type'), nameOf(d)).toBe('RuntimeDefault');
      expect(at(pod, 'automountServiceAccountToken'), nameOf(d)).toBe(false);
      for (const container of list(pod, 'containers')) {
        expect(at(container, 'securityContext.readOnlyRootFilesystem'), nameOf(d)).toBe(true);
        expect(at(container, 'securityContext.allowPrivilegeEscalation'), nameOf(d)).toBe(false);
        expect(at(container, 'securityContext.capabilities.drop'), nameOf(d)).toEqual(['ALL']);
      }
    }
  });

  it('lets Prometheus find /metrics on the port each role serves it on (scrape annotations)', () => {
    for (const [d, variable] of [[deployment.api, 'PORT'], [deployment.projector, 'PROJECTOR_PORT']] as const) {
      const annotations = field(field(field(field(d, 'spec'), 'template'), 'metadata'), 'annotations');
      expect(annotations['prometheus.io/scrape'], nameOf(d)).toBe('true');
      expect(annotations['prometheus.io/path'], nameOf(d)).toBe('/metrics');
      expect(annotations['prometheus.io/port'], nameOf(d)).toBe(environmentOf(d)[variable]);
    }
  });

  it('keeps the secrets in the Secret: JWT_SECRET, DATABASE_URL, DATABASE_READ_URL, REDIS_URL, EVENTSTORE_URL, read by key', () => {
    expect(Object.keys(secret).sort()).toEqual(['DATABASE_READ_URL', 'DATABASE_URL', 'EVENTSTORE_URL', 'JWT_SECRET', 'REDIS_URL']);
    expect(Object.keys(configMap).filter((key) => key in secret)).toEqual([]);
    for (const d of ofKind('Deployment')) {
      for (const variable of list(containerOf(d), 'env')) {
        const ref = at(variable, 'valueFrom.secretKeyRef');
        if (ref === undefined) continue;
        expect(at(ref, 'name'), nameOf(d)).toBe('keel-secrets');
        expect(Object.keys(secret), nameOf(d)).toContain(at(ref, 'key'));
        expect(at(ref, 'key'), nameOf(d)).toBe(at(variable, 'name'));
      }
    }
    // Least privilege: the projector verifies no tokens and never reads the replica.
    expect(Object.keys(environmentOf(deployment.projector))).not.toContain('JWT_SECRET');
    expect(Object.keys(environmentOf(deployment.projector))).not.toContain('DATABASE_READ_URL');
  });

  it('gives Keel a configuration it accepts once the placeholders are replaced, and the API refuses to start on the JWT_SECRET placeholder', () => {
    const real = { ...secret, JWT_SECRET: 'x'.repeat(64) };
    for (const d of ofKind('Deployment')) {
      const config = loadConfig(environmentOf(d, real));
      expect(config.nodeEnv, nameOf(d)).toBe('production');
      expect(config.host, nameOf(d)).toBe('0.0.0.0');
      expect(config.databaseUrl, nameOf(d)).toBeDefined();
      expect(config.redisUrl?.startsWith('rediss://'), `${nameOf(d)}: Redis over TLS`).toBe(true);
    }
    expect(loadConfig(environmentOf(deployment.api, real)).databaseReadUrl).toBeDefined();
    expect(() => requireJwtSecret(loadConfig(environmentOf(deployment.api)))).toThrow(/JWT_SECRET/);
  });

  it('sets only variables Keel reads', () => {
    const known = new Set<string>([...VARIABLE_NAMES, 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME', 'NODE_OPTIONS']);
    for (const d of ofKind('Deployment')) {
      expect(Object.keys(environmentOf(d)).filter((key) => !known.has(key)), nameOf(d)).toEqual([]);
    }
  });

  it('scales the API with a HorizontalPodAutoscaler on CPU, and leaves its replica count to it', () => {
    const hpa = one('HorizontalPodAutoscaler', 'keel-api');
    expect(at(hpa, 'spec.scaleTargetRef')).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'keel-api' });
    expect(Number(at(hpa, 'spec.minReplicas'))).toBeGreaterThanOrEqual(2);
    expect(list(field(hpa, 'spec'), 'metrics').map((m) => at(m, 'resource.name'))).toContain('cpu');
    expect(at(deployment.api, 'spec.replicas')).toBeUndefined();
    expect(Number(at(deployment.projector, 'spec.replicas')), 'a leader and a standby').toBeGreaterThanOrEqual(2);
  });

  it('has a PodDisruptionBudget for the API and one for the projector, each selecting its pods', () => {
    for (const d of Object.values(deployment)) {
      const budgets = ofKind('PodDisruptionBudget').filter((pdb) => JSON.stringify(at(pdb, 'spec.selector.matchLabels')) === JSON.stringify(at(d, 'spec.selector.matchLabels')));
      expect(budgets, nameOf(d)).toHaveLength(1);
    }
    for (const d of Object.values(deployment)) {
      for (const [key, value] of Object.entries(field(field(d, 'spec'), 'selector').matchLabels ?? {})) {
        expect(podLabelsOf(d)[key], nameOf(d)).toBe(value);
      }
    }
  });

  it("points each Service at a Deployment's pods and a port they declare", () => {
    for (const service of ofKind('Service')) {
      const selector = field(field(service, 'spec'), 'selector');
      const target = ofKind('Deployment').find((d) => Object.entries(selector).every(([key, value]) => podLabelsOf(d)[key] === value));
      expect(target, nameOf(service)).toBeDefined();
      for (const port of list(field(service, 'spec'), 'ports')) {
        expect(() => containerPort(containerOf(target ?? {}), at(port, 'targetPort')), nameOf(service)).not.toThrow();
      }
    }
  });
});

describe('deploy/kubernetes: the Ingress', () => {
  const ingress = one('Ingress', 'keel');
  const paths = list(field(ingress, 'spec'), 'rules').flatMap((rule) => list(field(rule, 'http'), 'paths'));
  const annotations = field(field(ingress, 'metadata'), 'annotations');
  const routes = (path: string): boolean =>
    paths.some((p) => (at(p, 'pathType') === 'Exact' ? at(p, 'path') === path : path.startsWith(String(at(p, 'path')))));

  it('routes /graphql and /health to the API Service, and never /metrics, /ready or /inspector', () => {
    expect(routes('/graphql')).toBe(true);
    expect(routes('/health')).toBe(true);
    for (const internal of ['/metrics', '/ready', '/inspector', '/inspector/api/session']) expect(routes(internal), internal).toBe(false);
    for (const p of paths) {
      expect(at(p, 'pathType')).not.toBe('ImplementationSpecific');
      expect(at(p, 'backend.service')).toEqual({ name: 'keel-api', port: { name: 'http' } });
    }
    expect(list(field(one('Service', 'keel-api'), 'spec'), 'ports').map((p) => at(p, 'name'))).toContain('http');
  });

  it('terminates TLS for every host it routes and redirects plain HTTP', () => {
    const hosts = list(field(ingress, 'spec'), 'rules').map((rule) => at(rule, 'host'));
    const tlsHosts = list(field(ingress, 'spec'), 'tls').flatMap((tls) => list(tls, 'hosts'));
    expect(hosts.filter((host) => !tlsHosts.includes(host))).toEqual([]);
    expect(annotations['nginx.ingress.kubernetes.io/force-ssl-redirect']).toBe('true');
  });

  it("refuses bodies above Keel's BODY_LIMIT_BYTES and waits at least CONSISTENCY_WAIT_MS for an answer", () => {
    expect(nginxBytes(String(annotations['nginx.ingress.kubernetes.io/proxy-body-size']))).toBe(Number(configMap.BODY_LIMIT_BYTES));
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']) * 1000).toBeGreaterThan(Number(configMap.CONSISTENCY_WAIT_MS));
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-send-timeout']) * 1000).toBeGreaterThan(Number(configMap.CONSISTENCY_WAIT_MS));
  });
});

describe('deploy/kubernetes: NetworkPolicies', () => {
  const policies = ofKind('NetworkPolicy');
  const policyFor = (d: Data): Data => {
    const found = policies.filter((p) => {
      const labels = at(p, 'spec.podSelector.matchLabels');
      return isData(labels) && Object.keys(labels).length > 0 && Object.entries(labels).every(([key, value]) => podLabelsOf(d)[key] === value);
    });
    expect(found, nameOf(d)).toHaveLength(1);
    return found[0] ?? {};
  };
  const portsOf = (rule: unknown): number[] => list(rule, 'ports').map((p) => Number(at(p, 'port')));
  const namespaceOfPeer = (peer: unknown): unknown => {
    const labels = at(peer, 'namespaceSelector.matchLabels');
    return isData(labels) ? labels['kubernetes.io/metadata.name'] : undefined;
  };

  it('deny everything in the namespace by default, both ways', () => {
    const denyAll = policies.filter(
      (p) => JSON.stringify(at(p, 'spec.podSelector')) === '{}' && list(field(p, 'spec'), 'ingress').length === 0 && list(field(p, 'spec'), 'egress').length === 0,
    );
    expect(denyAll).toHaveLength(1);
    expect(list(field(denyAll[0] ?? {}, 'spec'), 'policyTypes').sort()).toEqual(['Egress', 'Ingress']);
  });

  it('let only the API take traffic from the ingress controller, on its HTTP port', () => {
    for (const d of Object.values(deployment)) {
      const fromIngress = list(field(policyFor(d), 'spec'), 'ingress').filter((rule) => list(rule, 'from').some((peer) => namespaceOfPeer(peer) === 'ingress-nginx'));
      if (d === deployment.api) {
        expect(fromIngress).toHaveLength(1);
        expect(portsOf(fromIngress[0])).toEqual([containerPort(containerOf(d), 'http')]);
      } else {
        expect(fromIngress, nameOf(d)).toEqual([]);
      }
    }
  });

  it('let Prometheus (namespace monitoring) reach each role only on its metrics port, and nothing else in', () => {
    for (const d of Object.values(deployment)) {
      const annotations = field(field(field(field(d, 'spec'), 'template'), 'metadata'), 'annotations');
      const metricsPort = Number(annotations['prometheus.io/port']);
      const ingress = list(field(policyFor(d), 'spec'), 'ingress');
      expect(ingress.filter((rule) => list(rule, 'from').some((peer) => namespaceOfPeer(peer) === 'monitoring')).map(portsOf), nameOf(d)).toEqual([[metricsPort]]);
      for (const rule of ingress) {
        for (const peer of list(rule, 'from')) {
          expect(['monitoring', 'ingress-nginx'], nameOf(d)).toContain(namespaceOfPeer(peer));
          expect(at(peer, 'podSelector'), `${nameOf(d)}: named pods only, not a whole namespace`).toBeDefined();
        }
      }
    }
  });

  it('let each part reach only DNS and its services, by port: the API PostgreSQL, Redis, EventStoreDB; the projector those and the payment provider', () => {
    const DNS = 53;
    const needs = {
      api: [DNS, 5432, 6379, 2113],
      projector: [DNS, 5432, 6379, 2113, 443],
    };
    // Redis over TLS on 6380 where the provider uses it; traces to a collector in monitoring.
    const mayAlso = [6380, 4318];
    for (const [role, d] of Object.entries(deployment) as [keyof typeof needs, Data][]) {
      const egress = list(field(policyFor(d), 'spec'), 'egress');
      for (const rule of egress) {
        expect(portsOf(rule).length, `${role}: every egress rule names its ports`).toBeGreaterThan(0);
        expect(list(rule, 'to').length, `${role}: every egress rule names its destinations`).toBeGreaterThan(0);
      }
      const ports = new Set(egress.flatMap(portsOf));
      expect([...ports].filter((port) => !needs[role].includes(port) && !mayAlso.includes(port)), role).toEqual([]);
      expect(needs[role].filter((port) => !ports.has(port)), role).toEqual([]);
      const dns = egress.filter((rule) => portsOf(rule).includes(DNS));
      expect(dns.flatMap((rule) => list(rule, 'to').map(namespaceOfPeer)), `${role}: DNS only to kube-system`).toEqual(['kube-system']);
    }
    expect(list(field(policyFor(deployment.api), 'spec'), 'egress').flatMap(portsOf)).not.toContain(443);
  });
});
