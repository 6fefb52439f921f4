/**
 * The chart of a flash-sale load test run: one PNG that people read instead of a table. Top:
 * requests/s and p99 checkout latency (with the 500 ms and 1,000 ms marks); bottom: the answers
 * buyers learned per bucket, stacked; the injected faults shaded (or a vertical line) in both.
 * Drawn by Apache ECharts' server-side SVG renderer and rasterised by resvg, so that no browser and
 * no hand-drawn SVG is needed.
 *
 * Fonts: text is drawn with system fonts. 'DejaVu Sans' (Debian package fonts-dejavu-core) is
 * always there wherever chromium is installed (chromium → libfontconfig1 → fontconfig-config →
 * fonts-dejavu-core); 'Liberation Sans' (fonts-liberation, recommended by chromium-common) is
 * preferred when present because it has Arial's metrics, which ECharts assumes when it measures text.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import type { ResvgRenderOptions } from '@resvg/resvg-js';
import { BarChart, LineChart } from 'echarts/charts';
import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, TitleComponent } from 'echarts/components';
import type { GridComponentOption, LegendComponentOption, MarkAreaComponentOption, MarkLineComponentOption, TitleComponentOption } from 'echarts/components';
import { init, use } from 'echarts/core';
import type { ComposeOption } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

use([LineChart, BarChart, GridComponent, LegendComponent, TitleComponent, MarkAreaComponent, MarkLineComponent, SVGRenderer]);

type ChartOption = ComposeOption<
  LineSeriesOption | BarSeriesOption | GridComponentOption | LegendComponentOption | TitleComponentOption | MarkAreaComponentOption | MarkLineComponentOption
>;

export interface RunChartInput {
  /** The run's name, e.g. 'flash sale: 10,000 buyers, 100 units, fault: projector SIGKILL'. */
  readonly title: string;
  /** Width of a bucket in seconds, e.g. 0.5. */
  readonly bucketSeconds: number;
  /** Start of each bucket, seconds since the opening. */
  readonly seconds: readonly number[];
  /** Checkout requests answered in the bucket / bucketSeconds. */
  readonly requestsPerSecond: readonly number[];
  /** Final answers buyers learned in the bucket (counts). */
  readonly outcomes: {
    readonly confirmed: readonly number[];
    readonly cancelled: readonly number[];
    readonly refused: readonly number[];
    readonly errors: readonly number[];
  };
  /** p99 checkout latency of the requests answered in the bucket; null when none was. */
  readonly p99Ms: readonly (number | null)[];
  /** Injected faults, seconds since the opening: an area for [from, to], a line when `to` is absent. */
  readonly faults: readonly { readonly label: string; readonly from: number; readonly to?: number }[];
  /** A line under the title (e.g. the commit and the machine); none by default. */
  readonly subtitle?: string;
  /** Legend names of the outcome series (the overload ramp shows accepted and shed requests). */
  readonly outcomeNames?: Partial<Readonly<Record<keyof RunChartInput['outcomes'], string>>>;
  /** Name of the lower grid's axis; buyers answered per bucket by default. */
  readonly outcomesAxisName?: string;
  /** Size of the picture in pixels; 1400 × 800 by default. */
  readonly width?: number;
  readonly height?: number;
}

export const CHART_WIDTH = 1400;
export const CHART_HEIGHT = 800;

/** Liberation Sans first (Arial's metrics, which ECharts' text measuring assumes), DejaVu Sans always there. */
const FONT_FAMILY = "'Liberation Sans', 'DejaVu Sans', sans-serif";
const FALLBACK_FONT = 'DejaVu Sans';

const COLORS = {
  requests: '#1f6fb4',
  p99: '#7b3fa0',
  confirmed: '#2e9d4a',
  cancelled: '#f28e1c',
  refused: '#9e9e9e',
  errors: '#d62f2f',
  fault: '#37474f',
  faultArea: 'rgba(84, 110, 122, 0.16)',
  threshold: '#8d6e63',
  text: '#222222',
  muted: '#555555',
  split: '#e6e6e6',
} as const;

/** The p99 marks drawn in the latency grid. */
const LATENCY_MARKS_MS = [500, 1000] as const;

// Layout in pixels (for the default size; the grids scale with the height).
const LEFT = 96;
const RIGHT = 96;
const TOP_GRID_TOP = 128;
const GAP_BETWEEN_GRIDS = 86;
const BOTTOM = 64;

const SERIES = {
  requests: 'requests/s',
  p99: 'p99 checkout latency (ms)',
  confirmed: 'confirmed',
  cancelled: 'cancelled',
  refused: 'refused',
  errors: 'errors',
} as const;

const thousands = (value: number): string => value.toLocaleString('en-US', { maximumFractionDigits: 2 });

/** A round upper bound at or above `value`: 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 or 10 times a power of ten. */
const roundUp = (value: number): number => {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((candidate) => candidate * power >= value) ?? 10;
  return step * power;
};

const finiteMax = (values: readonly (number | null)[]): number =>
  values.reduce<number>((max, value) => (value !== null && Number.isFinite(value) && value > max ? value : max), 0);

/** Checks that every series has one value per bucket, so that no bucket is silently shifted. */
const checkLengths = (input: RunChartInput): void => {
  const expected = input.seconds.length;
  const lengths: Record<string, number> = {
    requestsPerSecond: input.requestsPerSecond.length,
    p99Ms: input.p99Ms.length,
    'outcomes.confirmed': input.outcomes.confirmed.length,
    'outcomes.cancelled': input.outcomes.cancelled.length,
    'outcomes.refused': input.outcomes.refused.length,
    'outcomes.errors': input.outcomes.errors.length,
  };
  const wrong = Object.entries(lengths).filter(([, length]) => length !== expected);
  if (wrong.length > 0) {
    throw new Error(`run chart: ${wrong.map(([name, length]) => `${name} has ${length} values`).join(', ')}; seconds has ${expected}`);
  }
  if (!(input.bucketSeconds > 0)) throw new Error(`run chart: bucketSeconds must be positive, got ${input.bucketSeconds}`);
};

/** The ECharts option of the chart (exported for tests and for anyone who wants another renderer). */
/**
 * Several faults close together would print their labels over each other: they are numbered on
 * the chart and named, by number, in the subtitle.
 */
const numberedFaults = (input: RunChartInput): RunChartInput => {
  if (input.faults.length < 2) return input;
  const legend = input.faults.map((fault, i) => `${i + 1}: ${fault.label}`).join('   ');
  return {
    ...input,
    subtitle: input.subtitle === undefined ? `faults ${legend}` : `${input.subtitle}; faults ${legend}`,
    faults: input.faults.map((fault, i) => ({ ...fault, label: String(i + 1) })),
  };
};

export const runChartOption = (given: RunChartInput): ChartOption => {
  checkLengths(given);
  const input = numberedFaults(given);
  const width = input.width ?? CHART_WIDTH;
  const height = input.height ?? CHART_HEIGHT;
  const gridHeight = (height - TOP_GRID_TOP - GAP_BETWEEN_GRIDS - BOTTOM) / 2;
  const bottomGridTop = TOP_GRID_TOP + gridHeight + GAP_BETWEEN_GRIDS;
  const half = input.bucketSeconds / 2;

  // Every value is drawn at the middle of its bucket; the x axis covers the buckets and the faults.
  const lastSecond = Math.max(
    (input.seconds.at(-1) ?? 0) + input.bucketSeconds,
    ...input.faults.map((fault) => fault.to ?? fault.from),
  );
  const xMax = roundUp(lastSecond) >= lastSecond * 1.15 ? Math.ceil(lastSecond) : roundUp(lastSecond);
  // checkLengths made every series as long as `seconds`.
  const at = <T>(values: readonly T[]): [number, T][] => values.map((value, index) => [(input.seconds[index] ?? Number.NaN) + half, value]);
  const barWidth = Math.max(1, ((width - LEFT - RIGHT) * input.bucketSeconds * 0.8) / xMax);
  const showSymbol = input.seconds.length <= 60;

  const p99Max = roundUp(Math.max(finiteMax(input.p99Ms), ...LATENCY_MARKS_MS) * 1.08);
  // The marks' labels sit above their lines at the right end; when the lines are too close for two
  // labels on top of each other, each next label moves left instead.
  const marksApartPx = (gridHeight * (LATENCY_MARKS_MS[1] - LATENCY_MARKS_MS[0])) / p99Max;
  const marksLabelShift = marksApartPx < 22 ? 64 : 0;

  const faultAreas: MarkAreaComponentOption | undefined = (() => {
    const areas = input.faults.filter((fault) => fault.to !== undefined);
    if (areas.length === 0) return undefined;
    return {
      silent: true,
      itemStyle: { color: COLORS.faultArea, borderColor: COLORS.fault, borderWidth: 1, borderType: 'dashed' },
      label: { show: true, position: 'top', distance: 6, color: COLORS.fault, fontWeight: 'bold', fontSize: 13, fontFamily: FONT_FAMILY },
      data: areas.map((fault) => [{ name: fault.label, xAxis: fault.from }, { xAxis: fault.to ?? fault.from }]),
    };
  })();

  const faultLines = input.faults
    .filter((fault) => fault.to === undefined)
    .map((fault) => ({ name: fault.label, xAxis: fault.from }));

  const markLineOf = (
    data: NonNullable<MarkLineComponentOption['data']>,
    label: NonNullable<MarkLineComponentOption['label']>,
    color: string,
    z = 3,
  ): MarkLineComponentOption => ({
    silent: true,
    z,
    symbol: ['none', 'none'],
    animation: false,
    lineStyle: { color, type: 'dashed', width: 2 },
    label,
    data,
  });

  const faultMarkLine: MarkLineComponentOption | undefined =
    faultLines.length === 0
      ? undefined
      : markLineOf(
          faultLines,
          { show: true, position: 'end', distance: 6, formatter: '{b}', color: COLORS.fault, fontWeight: 'bold', fontSize: 13, fontFamily: FONT_FAMILY },
          COLORS.fault,
        );

  const axisLabel = { color: COLORS.muted, fontSize: 13, fontFamily: FONT_FAMILY };
  const axisName = { color: COLORS.text, fontSize: 14, fontFamily: FONT_FAMILY };
  const xAxisCommon = {
    type: 'value',
    min: 0,
    max: xMax,
    // The buckets lie within [0, xMax]: no widening for the bars, so that both grids share one scale.
    containShape: false,
    axisLine: { onZero: false, lineStyle: { color: '#888888' } },
    axisTick: { show: true },
    splitLine: { lineStyle: { color: COLORS.split } },
  } as const;

  const names = { ...SERIES, ...input.outcomeNames };
  const bars = (name: keyof typeof COLORS & keyof RunChartInput['outcomes']): BarSeriesOption => ({
    name: names[name],
    type: 'bar',
    xAxisIndex: 1,
    yAxisIndex: 2,
    stack: 'outcomes',
    barWidth,
    itemStyle: { color: COLORS[name] },
    data: at(input.outcomes[name]),
    ...(name === 'confirmed' ? { ...(faultAreas ? { markArea: faultAreas } : {}), ...(faultMarkLine ? { markLine: faultMarkLine } : {}) } : {}),
  });

  return {
    animation: false,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: FONT_FAMILY, color: COLORS.text },
    title: {
      left: LEFT - 8,
      top: 14,
      text: input.title,
      textStyle: { fontSize: 22, fontWeight: 'bold', color: COLORS.text, fontFamily: FONT_FAMILY },
      ...(input.subtitle === undefined ? {} : { subtext: input.subtitle, subtextStyle: { fontSize: 13, color: COLORS.muted, fontFamily: FONT_FAMILY } }),
    },
    legend: {
      top: input.subtitle === undefined ? 52 : 66,
      left: LEFT - 8,
      // Wide enough for DejaVu Sans, which is wider than the Arial metrics ECharts measures with.
      itemGap: 32,
      itemWidth: 22,
      itemHeight: 12,
      textStyle: { fontSize: 14, color: COLORS.text, fontFamily: FONT_FAMILY },
      data: [names.requests, names.p99, names.confirmed, names.cancelled, names.refused, names.errors],
    },
    grid: [
      { left: LEFT, right: RIGHT, top: TOP_GRID_TOP, height: gridHeight },
      { left: LEFT, right: RIGHT, top: bottomGridTop, height: gridHeight },
    ],
    xAxis: [
      { ...xAxisCommon, gridIndex: 0, axisLabel: { ...axisLabel, formatter: (value: number) => `${thousands(value)} s` } },
      {
        ...xAxisCommon,
        gridIndex: 1,
        name: 'seconds since the opening',
        nameLocation: 'middle',
        nameGap: 32,
        nameTextStyle: axisName,
        axisLabel: { ...axisLabel, formatter: (value: number) => `${thousands(value)} s` },
      },
    ],
    yAxis: [
      {
        type: 'value',
        gridIndex: 0,
        name: 'requests/s',
        nameLocation: 'middle',
        nameGap: 64,
        nameTextStyle: { ...axisName, color: COLORS.requests },
        min: 0,
        axisLabel: { ...axisLabel, formatter: (value: number) => thousands(value) },
        splitLine: { lineStyle: { color: COLORS.split } },
      },
      {
        type: 'value',
        gridIndex: 0,
        position: 'right',
        name: 'p99 latency (ms)',
        nameLocation: 'middle',
        nameGap: 64,
        nameTextStyle: { ...axisName, color: COLORS.p99 },
        min: 0,
        max: p99Max,
        axisLabel: { ...axisLabel, formatter: (value: number) => thousands(value) },
        splitLine: { show: false },
      },
      {
        type: 'value',
        gridIndex: 1,
        name: input.outcomesAxisName ?? `buyers answered per ${thousands(input.bucketSeconds)} s bucket`,
        nameLocation: 'middle',
        nameGap: 64,
        nameTextStyle: axisName,
        min: 0,
        minInterval: 1,
        axisLabel: { ...axisLabel, formatter: (value: number) => thousands(value) },
        splitLine: { lineStyle: { color: COLORS.split } },
      },
    ],
    series: [
      {
        name: SERIES.requests,
        type: 'line',
        xAxisIndex: 0,
        yAxisIndex: 0,
        showSymbol,
        symbolSize: 5,
        lineStyle: { width: 2.5, color: COLORS.requests },
        itemStyle: { color: COLORS.requests },
        areaStyle: { color: 'rgba(31, 111, 180, 0.08)' },
        data: at(input.requestsPerSecond),
        ...(faultAreas ? { markArea: faultAreas } : {}),
        ...(faultMarkLine ? { markLine: faultMarkLine } : {}),
      },
      {
        name: SERIES.p99,
        type: 'line',
        xAxisIndex: 0,
        yAxisIndex: 1,
        showSymbol,
        symbolSize: 5,
        connectNulls: false,
        lineStyle: { width: 2, color: COLORS.p99 },
        itemStyle: { color: COLORS.p99 },
        data: at(input.p99Ms),
        markLine: markLineOf(
          LATENCY_MARKS_MS.map((ms, index) => ({ name: `${thousands(ms)} ms`, yAxis: ms, label: { offset: [-index * marksLabelShift, 0] } })),
          {
            show: true,
            position: 'insideEndTop',
            formatter: '{b}',
            color: COLORS.threshold,
            fontSize: 12,
            fontFamily: FONT_FAMILY,
            backgroundColor: 'rgba(255, 255, 255, 0.85)',
            padding: [1, 3],
          },
          COLORS.threshold,
          5,
        ),
      },
      bars('confirmed'),
      bars('cancelled'),
      bars('refused'),
      bars('errors'),
    ],
  };
};

/** The chart as an SVG document (ECharts' server-side rendering, no DOM). */
export const renderRunChartSvg = (input: RunChartInput): string => {
  const chart = init(null, null, { renderer: 'svg', ssr: true, width: input.width ?? CHART_WIDTH, height: input.height ?? CHART_HEIGHT });
  try {
    chart.setOption(runChartOption(input));
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
};

type FontOptions = NonNullable<ResvgRenderOptions['font']>;

/** What resvg draws text with: the system fonts, DejaVu Sans when a family is missing. */
export const FONT_OPTIONS: FontOptions = { loadSystemFonts: true, defaultFontFamily: FALLBACK_FONT, sansSerifFamily: FALLBACK_FONT };

/**
 * Whether resvg finds a font for the chart's text with these options: a word is drawn on a
 * transparent canvas and some pixel must be painted. Without any font resvg silently leaves text
 * out, and a chart without its numbers and labels is worse than no chart.
 */
export const drawsText = (font: FontOptions = FONT_OPTIONS): boolean => {
  const probe = `<svg xmlns="http://www.w3.org/2000/svg" width="80" height="24"><text x="2" y="18" font-size="16" style="font-family:${FONT_FAMILY}">Keel 1,000</text></svg>`;
  const { pixels } = new Resvg(probe, { font }).render();
  for (let alpha = 3; alpha < pixels.length; alpha += 4) if ((pixels[alpha] ?? 0) > 0) return true;
  return false;
};

let fontsChecked = false;

/** The chart as a PNG, synchronously (resvg rasterises the SVG with the system fonts). Throws when no font is found. */
export const renderRunChartPng = (input: RunChartInput): Buffer => {
  const svg = renderRunChartSvg(input);
  if (!fontsChecked) {
    if (!drawsText()) {
      throw new Error('run chart: resvg finds no font to draw text with; install DejaVu Sans (Debian: apt-get install fonts-dejavu-core) or Liberation Sans (fonts-liberation)');
    }
    fontsChecked = true;
  }
  return new Resvg(svg, { background: '#ffffff', fitTo: { mode: 'original' }, font: FONT_OPTIONS }).render().asPng();
};

/** Writes the chart's PNG to `file`, creating its folder. */
export const writeRunChart = async (input: RunChartInput, file: string): Promise<void> => {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, renderRunChartPng(input));
};
