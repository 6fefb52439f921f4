/**
 * Keel's counters and histograms (src/platform/metric-series.ts) must read, through prom-client's
 * registry, exactly as prom-client's own would after the same calls: Prometheus and Grafana see
 * no difference, in either format.
 */
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Counter, Histogram } from '../../../src/platform/metric-series.js';

const BUCKETS = [0.001, 0.01, 0.1, 1, 10];

/** A registry of prom-client's own metrics, and one of Keel's, with the same definitions. */
const pair = () => {
  // Exemplars need a registry made for OpenMetrics (prom-client's rule); each scrape picks its format.
  const theirs = new client.Registry<client.RegistryContentType>();
  const ours = new client.Registry<client.RegistryContentType>();
  for (const registry of [theirs, ours]) {
    registry.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
    registry.setDefaultLabels({ role: 'api' });
  }
  return {
    theirs,
    ours,
    theirCounter: new client.Counter({ name: 'x_requests_total', help: 'Requests.', labelNames: ['route', 'outcome'], registers: [theirs] }),
    ourCounter: new Counter({ name: 'x_requests_total', help: 'Requests.', labelNames: ['route', 'outcome'], registers: [ours] }),
    theirPlain: new client.Counter({ name: 'x_shed_total', help: 'Shed.', labelNames: [], registers: [theirs] }),
    ourPlain: new Counter({ name: 'x_shed_total', help: 'Shed.', labelNames: [], registers: [ours] }),
    theirHistogram: new client.Histogram({ name: 'x_seconds', help: 'Time.', labelNames: ['route'], buckets: BUCKETS, enableExemplars: true, registers: [theirs] }),
    ourHistogram: new Histogram({ name: 'x_seconds', help: 'Time.', labelNames: ['route'], buckets: BUCKETS, enableExemplars: true, registers: [ours] }),
  };
};

/** Exemplar timestamps are the time of the call: equal to the millisecond is not promised. */
const withoutTimestamps = (text: string): string => text.replace(/(# \{[^}]*\} \S+) \d+(\.\d+)?$/gm, '$1 T');

const exposition = async (registry: client.Registry<client.RegistryContentType>, contentType: client.RegistryContentType): Promise<string> => {
  registry.setContentType(contentType);
  return withoutTimestamps(await registry.metrics());
};

describe('metric series', () => {
  it('expose what prom-client exposes after the same observations, in both formats', async () => {
    const m = pair();
    // Values on the bounds, between them, above them, and zero.
    const values = [0, 0.001, 0.0011, 0.05, 0.1, 0.5, 1, 3, 10, 11, 250];
    for (const [i, value] of values.entries()) {
      const route = i % 2 === 0 ? 'product' : 'order';
      m.theirHistogram.observe({ labels: { route }, value });
      m.ourHistogram.labels(route).observe(value);
      m.theirCounter.inc({ route, outcome: i % 3 === 0 ? 'error' : 'ok' });
      m.ourCounter.labels(route, i % 3 === 0 ? 'error' : 'ok').inc();
    }
    m.theirCounter.inc({ route: 'product', outcome: 'ok' }, 2.5);
    m.ourCounter.labels({ route: 'product', outcome: 'ok' }).inc(2.5);
    m.theirPlain.inc();
    m.ourPlain.labels().inc();
    m.theirHistogram.zero({ route: 'idle' });
    m.ourHistogram.zero({ route: 'idle' });
    for (const format of [client.Registry.PROMETHEUS_CONTENT_TYPE, client.Registry.OPENMETRICS_CONTENT_TYPE] as const) {
      expect(await exposition(m.ours, format)).toBe(await exposition(m.theirs, format));
    }
    expect(await m.ours.getMetricsAsJSON()).toEqual(await m.theirs.getMetricsAsJSON());
  });

  it('keep the last trace id of each bucket as its exemplar, printed in OpenMetrics only', async () => {
    const m = pair();
    // prom-client types exemplar labels as the metric's own label names; trace_id is not one of them.
    const traced = (value: number, traceId: string) =>
      m.theirHistogram.observe({ labels: { route: 'product' }, value, exemplarLabels: { trace_id: traceId } } as unknown as client.ObserveDataWithExemplar<'route'>);
    traced(0.005, 'aaa');
    traced(0.007, 'bbb');
    traced(50, 'ccc');
    const product = m.ourHistogram.labels('product');
    product.observe(0.005, 'aaa');
    product.observe(0.007, 'bbb');
    product.observe(50, 'ccc');
    const openMetrics = await exposition(m.ours, client.Registry.OPENMETRICS_CONTENT_TYPE);
    expect(openMetrics).toBe(await exposition(m.theirs, client.Registry.OPENMETRICS_CONTENT_TYPE));
    expect(openMetrics).toContain('x_seconds_bucket{le="0.01",role="api",route="product"} 2 # {trace_id="bbb"} 0.007 T');
    expect(openMetrics).toContain('x_seconds_bucket{le="+Inf",role="api",route="product"} 3 # {trace_id="ccc"} 50 T');
    expect(await exposition(m.ours, client.Registry.PROMETHEUS_CONTENT_TYPE)).not.toContain('trace_id');
  });

  it('stamp an exemplar with the time of its observation', async () => {
    const histogram = new Histogram({ name: 'y_seconds', help: 'Time.', labelNames: [], buckets: BUCKETS, enableExemplars: true, registers: [] });
    const before = Date.now() / 1000;
    histogram.labels().observe(0.5, 'abc');
    const exemplar = histogram.labels().exemplars[3];
    expect(exemplar?.labelSet).toEqual({ trace_id: 'abc' });
    expect(exemplar?.timestamp).toBeGreaterThanOrEqual(before);
    expect(exemplar?.timestamp).toBeLessThanOrEqual(Date.now() / 1000);
  });

  it('keep no exemplar for a histogram made without them', () => {
    const histogram = new Histogram({ name: 'z_seconds', help: 'Time.', labelNames: [], buckets: BUCKETS, registers: [] });
    histogram.labels().observe(0.5, 'abc');
    expect(histogram.labels().exemplars.every((exemplar) => exemplar === undefined)).toBe(true);
  });

  it('start over on reset, as prom-client does (an unlabelled series at zero again)', async () => {
    const m = pair();
    m.theirCounter.inc({ route: 'a', outcome: 'ok' });
    m.ourCounter.labels('a', 'ok').inc();
    m.theirPlain.inc(3);
    m.ourPlain.labels().inc(3);
    m.theirHistogram.observe({ labels: { route: 'a' }, value: 1 });
    m.ourHistogram.labels('a').observe(1);
    // A series a hot path holds (as Keel's layers do) must keep counting after a reset.
    const held = m.ourHistogram.labels('a');
    m.theirs.resetMetrics();
    m.ours.resetMetrics();
    expect(await exposition(m.ours, client.Registry.PROMETHEUS_CONTENT_TYPE)).toBe(await exposition(m.theirs, client.Registry.PROMETHEUS_CONTENT_TYPE));
    expect(await exposition(m.ours, client.Registry.PROMETHEUS_CONTENT_TYPE)).toContain('x_shed_total{role="api"} 0');
    m.theirHistogram.observe({ labels: { route: 'a' }, value: 2 });
    held.observe(2);
    expect(await exposition(m.ours, client.Registry.PROMETHEUS_CONTENT_TYPE)).toBe(await exposition(m.theirs, client.Registry.PROMETHEUS_CONTENT_TYPE));
    expect(await exposition(m.ours, client.Registry.PROMETHEUS_CONTENT_TYPE)).toContain('x_seconds_count{role="api",route="a"} 1');
  });

  it('hand back the same series for the same label values', () => {
    const m = pair();
    expect(m.ourCounter.labels('a', 'ok')).toBe(m.ourCounter.labels({ route: 'a', outcome: 'ok' }));
    expect(m.ourHistogram.labels('a')).not.toBe(m.ourHistogram.labels('b'));
  });

  it('refuse what prom-client refuses', () => {
    const m = pair();
    expect(() => m.ourCounter.labels('only one')).toThrow(/2 label values expected, got 1/);
    expect(() => m.ourCounter.labels({ route: 'a', colour: 'red' } as never)).toThrow(/no label named colour/);
    expect(() => m.ourCounter.labels('a', 'ok').inc(-1)).toThrow(RangeError);
    expect(() => m.ourCounter.labels('a', 'ok').inc(Number.NaN)).toThrow(RangeError);
    expect(() => m.ourHistogram.labels('a').observe(Number.NaN)).toThrow(TypeError);
    expect(() => new Counter({ name: 'bad name', help: 'x', labelNames: [], registers: [] })).toThrow(/invalid metric name/);
    expect(() => new Histogram({ name: 'h', help: 'x', labelNames: ['le'], buckets: BUCKETS, registers: [] })).toThrow(/invalid label name le/);
    expect(() => new Histogram({ name: 'h', help: 'x', labelNames: [], buckets: [1, 0.5], registers: [] })).toThrow(/ascending/);
    // The same name twice in one registry, as with prom-client's own.
    expect(() => new Counter({ name: 'x_requests_total', help: 'again', labelNames: [], registers: [m.ours] })).toThrow(/already been registered/);
  });
});
