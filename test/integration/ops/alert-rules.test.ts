/**
 * Keel's Prometheus rules and Grafana dashboard (deploy/) stay valid and true to what Keel exports.
 * promtool (Debian's `prometheus` package, installed by `npm test` through scripts/provision.mjs)
 * checks the rules, runs their unit tests (deploy/prometheus/alerts.test.yml) and checks the
 * compose scrape configuration. Every metric name in an expression of the rules or the dashboard
 * must be one Keel defines (METRIC_NAMES of src/platform/metrics.ts), a prom-client Node default,
 * a recording rule or one of Prometheus's own series; every alert links to its runbook section.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { METRIC_NAMES, registry } from '../../../src/platform/metrics.js';
import { doc } from '../../support/docs.js';
import { metricNamesIn } from '../../support/prometheus.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const RULES = 'deploy/prometheus/alerts.yml';
const RULE_TESTS = 'deploy/prometheus/alerts.test.yml';
const SCRAPE_CONFIG = 'deploy/prometheus/prometheus.yml';
const DASHBOARD = 'deploy/grafana/dashboards/keel.json';
const RUNBOOK = 'docs/operations/dashboards-and-alerts.md';

const read = (path: string): string => readFileSync(join(root, path), 'utf8');

/** Runs promtool; fails with its output, or with how to install it when it is missing. */
const promtool = (...args: string[]): string => {
  const result = spawnSync('promtool', args, { cwd: root, encoding: 'utf8' });
  if (result.error !== undefined) {
    throw new Error(`promtool could not run (${result.error.message}): install Debian's "prometheus" package (apt-get install prometheus); npm test does it as root`);
  }
  const output = `${result.stdout}${result.stderr}`;
  expect(result.status, output).toBe(0);
  return output;
};

interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}
const groups = (parse(read(RULES)) as { groups: Array<{ name: string; rules: Rule[] }> }).groups;
const rules: Rule[] = groups.flatMap((group) => group.rules);
const alerts = rules.filter((rule) => rule.alert !== undefined);
const recorded = new Set(rules.flatMap((rule) => (rule.record === undefined ? [] : [rule.record])));

interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly datasource?: { readonly uid: string };
  readonly targets?: Array<{ readonly expr: string; readonly refId: string }>;
}
interface Variable {
  readonly name: string;
  readonly type: string;
  readonly definition?: string;
}
const dashboard = JSON.parse(read(DASHBOARD)) as { schemaVersion: number; uid: string; panels: Panel[]; templating: { list: Variable[] } };
const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
const dashboardExprs = panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
const variableMetrics = dashboard.templating.list.flatMap((v) => [...(v.definition ?? '').matchAll(/label_values\(\s*([a-zA-Z_:][\w:]*)\s*,/g)].map((m) => m[1] ?? ''));

/**
 * The series names a PromQL expression may use: Keel's (a histogram as its _bucket, _sum and
 * _count series), prom-client's Node defaults registered beside them, the recording rules, and
 * Prometheus's own `up` and `ALERTS`.
 */
const known = new Set<string>(['up', 'ALERTS', ...recorded]);
for (const metric of registry.getMetricsAsArray()) {
  const { name, type } = metric as unknown as { name: string; type: string };
  if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) known.add(`${name}${suffix}`);
  else known.add(name);
}

/** GitHub's anchor for a heading (as test/unit/doc-links.test.ts computes it). */
const anchors = (markdown: string): Set<string> =>
  new Set(
    [...markdown.matchAll(/^#{1,6} (.*)$/gm)].map((m) =>
      (m[1] ?? '')
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    ),
  );

describe(`${RULES}, Keel's Prometheus rules`, () => {
  it('passes promtool check rules', () => {
    expect(promtool('check', 'rules', RULES)).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it(`passes its unit tests (promtool test rules ${RULE_TESTS})`, () => {
    expect(promtool('test', 'rules', RULE_TESTS)).toContain('SUCCESS');
  });

  it('alerts on lag, freshness, parked events, errors, the horizon, the process manager, leaderless projections and targets down', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual([
      'KeelCommandErrors',
      'KeelGraphQLErrors',
      'KeelProcessManagerBacklog',
      'KeelProjectionBehind',
      'KeelProjectionFreshnessSlow',
      'KeelProjectionLagging',
      'KeelProjectionNoLeader',
      'KeelProjectionParkedEvents',
      'KeelTargetDown',
      'KeelXminHorizonStall',
    ]);
  });

  // Groups are evaluated independently and in no set order: an alert reading a recording rule of
  // another group saw the previous evaluation's value now and then, and promtool's tests flaked.
  it('records every series an alert reads earlier in the alert\'s own group', () => {
    for (const group of groups) {
      const recordedHere = new Set<string>();
      for (const rule of group.rules) {
        if (rule.record !== undefined) recordedHere.add(rule.record);
        if (rule.alert === undefined) continue;
        const read = metricNamesIn(rule.expr).filter((name) => recorded.has(name));
        expect(read.filter((name) => !recordedHere.has(name)), `${group.name}: ${rule.alert}`).toEqual([]);
      }
    }
  });

  it('has, for every alert, a unit test where it fires and one where it does not', () => {
    interface Eval {
      readonly alertname: string;
      readonly exp_alerts?: unknown[];
    }
    const tests = (parse(read(RULE_TESTS)) as { tests: Array<{ alert_rule_test?: Eval[] }> }).tests;
    const evals = tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const { alert } of alerts) {
      const mine = evals.filter((e) => e.alertname === alert);
      expect(mine.some((e) => (e.exp_alerts ?? []).length > 0), `${alert} fires in a test`).toBe(true);
      expect(mine.some((e) => (e.exp_alerts ?? []).length === 0), `${alert} stays quiet in a test`).toBe(true);
    }
  });

  it(`gives every alert a for: duration, a severity and a runbook section of ${RUNBOOK}`, () => {
    const headings = anchors(doc(RUNBOOK));
    for (const alert of alerts) {
      expect(alert.for, `${alert.alert} for:`).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical'], `${alert.alert} severity`).toContain(alert.labels?.severity);
      expect(alert.annotations?.summary, `${alert.alert} summary`).toBeTruthy();
      const anchor = `${alert.alert?.toLowerCase()}`;
      expect(alert.annotations?.description, `${alert.alert} runbook link`).toContain(`${RUNBOOK}#${anchor}`);
      expect([...headings], `${RUNBOOK} has a section for ${alert.alert}`).toContain(anchor);
    }
  });

  it('uses only series Keel exports, Node defaults, recording rules and Prometheus\'s own', () => {
    // Expressions, and the queries the annotation templates run.
    const exprs = rules.flatMap((rule) => [rule.expr, ...Object.values(rule.annotations ?? {}).flatMap((text) => [...text.matchAll(/query "([^"]+)"/g)].map((m) => m[1] ?? ''))]);
    const used = new Set(exprs.flatMap(metricNamesIn));
    expect(used).toContain('keel_projection_freshness_seconds_bucket');
    expect(used).toContain('keel_xmin_horizon_holder');
    expect([...used].filter((name) => !known.has(name))).toEqual([]);
  });
});

describe(`${SCRAPE_CONFIG}, Prometheus in docker compose`, () => {
  it('passes promtool check config, rules included (on a copy: nothing is resolved)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-prometheus-config-'));
    try {
      copyFileSync(join(root, SCRAPE_CONFIG), join(dir, 'prometheus.yml'));
      copyFileSync(join(root, RULES), join(dir, 'alerts.yml'));
      const output = promtool('check', 'config', join(dir, 'prometheus.yml'));
      expect(output).toContain('is valid prometheus config file syntax');
      expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds every API and projector replica through Docker DNS (A records) and loads the rules', () => {
    const config = parse(read(SCRAPE_CONFIG)) as {
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; metrics_path?: string; dns_sd_configs?: Array<{ names: string[]; type: string; port: number }> }>;
    };
    expect(config.rule_files).toEqual(['alerts.yml']);
    const job = (name: string) => config.scrape_configs.find((c) => c.job_name === name);
    expect(job('keel-api')?.dns_sd_configs).toEqual([expect.objectContaining({ names: ['keel-api'], type: 'A', port: 4000 })]);
    expect(job('keel-projector')?.dns_sd_configs).toEqual([expect.objectContaining({ names: ['keel-projector'], type: 'A', port: 4001 })]);
  });
});

describe(`${DASHBOARD}, the Grafana dashboard`, () => {
  it('is a dashboard of schema 39 with unique panel ids, laid out on the 24-column grid', () => {
    expect(dashboard.schemaVersion).toBe(39);
    expect(dashboard.uid).toBe('keel-overview');
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
    for (const panel of panels) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      const refIds = (panel.targets ?? []).map((target) => target.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
    }
  });

  it('has the datasource, role and projection variables, and panels for each area', () => {
    expect(dashboard.templating.list.map((v) => [v.name, v.type])).toEqual([
      ['datasource', 'datasource'],
      ['role', 'query'],
      ['projection', 'query'],
    ]);
    const titles = dashboard.panels.map((panel) => panel.title);
    for (const title of ['Throughput', 'Latency', 'Errors', 'Projections', 'Cache and limits', 'PostgreSQL xmin horizon', 'Process manager', 'Node.js processes']) {
      expect(titles).toContain(title);
    }
    expect(panels.map((panel) => panel.type)).toContain('heatmap');
  });

  it('uses only series Keel exports, Node defaults, recording rules and Prometheus\'s own', () => {
    const used = new Set([...dashboardExprs.flatMap(metricNamesIn), ...variableMetrics]);
    expect([...used].filter((name) => !known.has(name))).toEqual([]);
  });

  it('shows every series Keel defines', () => {
    const used = [...dashboardExprs.flatMap(metricNamesIn), ...variableMetrics].map((name) => name.replace(/_(bucket|sum|count)$/, ''));
    expect(METRIC_NAMES.filter((name) => !used.includes(name))).toEqual([]);
  });
});

describe('deploy/grafana/provisioning, Grafana in docker compose', () => {
  it('provisions Prometheus (uid prometheus) with exemplar trace ids linking to Jaeger (uid jaeger)', () => {
    const { datasources } = parse(read('deploy/grafana/provisioning/datasources/keel.yml')) as {
      datasources: Array<{ uid: string; type: string; url: string; jsonData?: { exemplarTraceIdDestinations?: Array<{ name: string; datasourceUid: string }> } }>;
    };
    const prometheus = datasources.find((d) => d.uid === 'prometheus');
    expect(prometheus).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    expect(prometheus?.jsonData?.exemplarTraceIdDestinations).toEqual([expect.objectContaining({ name: 'trace_id', datasourceUid: 'jaeger' })]);
    expect(datasources.find((d) => d.uid === 'jaeger')).toMatchObject({ type: 'jaeger', url: 'http://jaeger:16686' });
  });

  it('loads the dashboards from /var/lib/grafana/dashboards', () => {
    const { providers } = parse(read('deploy/grafana/provisioning/dashboards/keel.yml')) as { providers: Array<{ type: string; options: { path: string } }> };
    expect(providers).toEqual([expect.objectContaining({ type: 'file', options: expect.objectContaining({ path: '/var/lib/grafana/dashboards' }) })]);
  });
});
