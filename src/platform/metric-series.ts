/**
 * Counters and histograms for the hot paths, served by prom-client's registry.
 *
 * prom-client's own counters and histograms hash their labels on every `inc` and `observe`, even
 * through a labelled child, and validate them again: about 1 µs a call, some 5 µs on every cached
 * GraphQL read (docs/decisions/0007-keel-counters-and-histograms.md). Here a labelled series is an
 * object made once; recording into it is a few additions (a histogram also scans its buckets).
 * The hot paths hold their series, so a series is never replaced: `reset` empties it in place,
 * and it is exported again from its next recording, as prom-client's would be. The registry reads
 * these families through the same contract as its own metrics (`get`, `getForPromString`,
 * `reset`), so prom-client still serializes every scrape, in Prometheus text and OpenMetrics.
 *
 * Gauges and Node's default metrics stay prom-client's: they are set at scrape time, not per call.
 */
import client from 'prom-client';
import type { Registry } from 'prom-client';

type Labels<L extends string> = Partial<Record<L, string | number>>;

/** One exported sample, as prom-client's registry formats it. */
interface Sample {
  readonly labels: Readonly<Record<string, string | number | undefined>>;
  readonly sharedLabels?: Readonly<Record<string, string | number | undefined>>;
  readonly value: number;
  readonly metricName?: string;
  readonly exemplar?: Exemplar | null | undefined;
}

/** An OpenMetrics exemplar (prom-client's shape: the registry prints it as it is). */
interface Exemplar {
  readonly labelSet: Readonly<Record<string, string>>;
  readonly value: number;
  /** Seconds since the epoch. */
  readonly timestamp: number;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface FamilyConfig<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly registers: ReadonlyArray<Registry<client.RegistryContentType>>;
}

/** What a family needs of its series. */
interface Series<L extends string> {
  readonly labels: Labels<L>;
  /** Exported: recorded into, or made at zero on purpose, since the last reset. */
  exported: boolean;
  /** Back to zero, and not exported until recorded into again. */
  clear(): void;
}

/** What both families share: the label checks, the series by label values, the registration. */
abstract class Family<L extends string, S extends Series<L>> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly aggregator = 'sum';
  abstract readonly type: 'counter' | 'histogram';
  protected readonly series = new Map<string, S>();

  constructor(config: FamilyConfig<L>) {
    if (!client.validateMetricName(config.name)) throw new Error(`invalid metric name: ${config.name}`);
    for (const label of config.labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith('__') || label === 'le') throw new Error(`${config.name}: invalid label name ${label}`);
    }
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    for (const registry of config.registers) registry.registerMetric(this as unknown as client.Metric);
  }

  protected abstract create(labels: Labels<L>): S;

  /**
   * The series of these label values (positional, in `labelNames` order, or an object), made on
   * first use. Callers on a hot path keep what it returns: looking it up builds a key.
   */
  labels(...values: Array<string | number>): S;
  labels(labels: Labels<L>): S;
  labels(...args: unknown[]): S {
    const labels = this.labelsOf(args);
    const key = this.labelNames.map((name) => String(labels[name] ?? '')).join('\u0000');
    let found = this.series.get(key);
    if (found === undefined) {
      found = this.create(labels);
      this.series.set(key, found);
    }
    return found;
  }

  /** Makes the series exist, at zero, before anything is recorded in it. */
  zero(labels: Labels<L>): void {
    this.labels(labels).exported = true;
  }

  /**
   * Empties every series, which disappear from the exposition until recorded into again
   * (prom-client's `registry.resetMetrics()` calls it). Series the hot paths hold stay theirs.
   */
  reset(): void {
    for (const series of this.series.values()) series.clear();
    this.init();
  }

  /** A family without labels has its one series from the start, as prom-client's do. */
  protected init(): void {
    if (this.labelNames.length === 0) this.zero({});
  }

  /** The series to export. */
  protected exported(): S[] {
    return [...this.series.values()].filter((series) => series.exported);
  }

  private labelsOf(args: readonly unknown[]): Labels<L> {
    const [first] = args;
    if (args.length === 1 && typeof first === 'object' && first !== null) {
      const given = first as Record<string, string | number>;
      for (const name of Object.keys(given)) {
        if (!(this.labelNames as readonly string[]).includes(name)) throw new Error(`${this.name}: no label named ${name}`);
      }
      return { ...given } as Labels<L>;
    }
    if (args.length !== this.labelNames.length) throw new Error(`${this.name}: ${this.labelNames.length} label values expected, got ${args.length}`);
    return Object.fromEntries(this.labelNames.map((name, i) => [name, args[i]])) as Labels<L>;
  }

  protected abstract samples(): Sample[];

  /** The registry's serializer reads this (labels of a series kept apart from a bucket's `le`). */
  async getForPromString(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    return { name: this.name, help: this.help, type: this.type, values: this.samples(), aggregator: this.aggregator };
  }

  /** prom-client's JSON shape (`registry.getMetricsAsJSON()`): every sample's labels in one object. */
  async get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const data = await this.getForPromString();
    return { ...data, values: data.values.map(({ sharedLabels, ...sample }) => ({ ...sample, labels: { ...sample.labels, ...sharedLabels } })) };
  }
}

export class CounterSeries<L extends string> implements Series<L> {
  value = 0;
  exported = false;
  constructor(readonly labels: Labels<L>) {}

  inc(amount = 1): void {
    if (!(amount >= 0) || amount === Number.POSITIVE_INFINITY) throw new RangeError(`a counter only goes up by a finite amount, not ${amount}`);
    this.value += amount;
    this.exported = true;
  }

  clear(): void {
    this.value = 0;
    this.exported = false;
  }
}

export class Counter<L extends string> extends Family<L, CounterSeries<L>> {
  readonly type = 'counter';

  constructor(config: FamilyConfig<L>) {
    super(config);
    this.init();
  }

  protected create(labels: Labels<L>): CounterSeries<L> {
    return new CounterSeries(labels);
  }

  protected samples(): Sample[] {
    return this.exported().map((series) => ({ labels: series.labels, value: series.value }));
  }
}

export class HistogramSeries<L extends string> implements Series<L> {
  /** Observations per bucket, not cumulative; the last one counts those above every bound. */
  readonly counts: Float64Array;
  /** The last exemplar of each bucket (histograms made with exemplars only). */
  readonly exemplars: Array<Exemplar | undefined>;
  sum = 0;
  count = 0;
  exported = false;

  constructor(
    readonly labels: Labels<L>,
    private readonly bounds: readonly number[],
    private readonly withExemplars: boolean,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
    this.exemplars = new Array<Exemplar | undefined>(bounds.length + 1);
  }

  /** One observation; with a trace id (and exemplars on), it becomes its bucket's exemplar. */
  observe(value: number, traceId?: string): void {
    if (!Number.isFinite(value)) throw new TypeError(`a histogram observes finite numbers, not ${value}`);
    const bounds = this.bounds;
    let bucket = 0;
    while (bucket < bounds.length && value > (bounds[bucket] as number)) bucket++;
    this.counts[bucket] = (this.counts[bucket] as number) + 1;
    this.sum += value;
    this.count += 1;
    this.exported = true;
    if (traceId !== undefined && this.withExemplars) this.exemplars[bucket] = { labelSet: { trace_id: traceId }, value, timestamp: Date.now() / 1000 };
  }

  clear(): void {
    this.counts.fill(0);
    this.exemplars.fill(undefined);
    this.sum = 0;
    this.count = 0;
    this.exported = false;
  }
}

export class Histogram<L extends string> extends Family<L, HistogramSeries<L>> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];
  private readonly enableExemplars: boolean;

  constructor(config: FamilyConfig<L> & { readonly buckets: readonly number[]; readonly enableExemplars?: boolean }) {
    super(config);
    const sorted = [...config.buckets].sort((a, b) => a - b);
    if (sorted.length === 0 || sorted.some((bound, i) => !Number.isFinite(bound) || bound !== config.buckets[i] || bound === sorted[i - 1])) {
      throw new Error(`${config.name}: buckets must be finite, distinct and ascending`);
    }
    this.buckets = Object.freeze([...config.buckets]);
    this.enableExemplars = config.enableExemplars ?? false;
    this.init();
  }

  protected create(labels: Labels<L>): HistogramSeries<L> {
    return new HistogramSeries(labels, this.buckets, this.enableExemplars);
  }

  protected samples(): Sample[] {
    const bucketName = `${this.name}_bucket`;
    const samples: Sample[] = [];
    for (const series of this.exported()) {
      const shared = series.labels;
      let cumulative = 0;
      // No exemplar is null for a bound, absent for +Inf: prom-client's JSON, to the letter.
      const bucket = (le: number | string, index: number, none: null | undefined): Sample => {
        cumulative += series.counts[index] as number;
        return { labels: { le }, sharedLabels: shared, value: cumulative, metricName: bucketName, exemplar: series.exemplars[index] ?? none };
      };
      this.buckets.forEach((bound, index) => samples.push(bucket(bound, index, null)));
      samples.push(
        bucket('+Inf', this.buckets.length, undefined),
        { labels: {}, sharedLabels: shared, value: series.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: shared, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return samples;
  }
}
