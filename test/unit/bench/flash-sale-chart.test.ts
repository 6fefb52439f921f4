/**
 * The flash-sale run chart (bench/flash-sale/chart.ts): a small synthetic run with one fault area
 * and one fault line is drawn to SVG and PNG. The PNG is kept under test-results/ (gitignored) so
 * that a person can look at it.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHART_HEIGHT, CHART_WIDTH, drawsText, renderRunChartPng, renderRunChartSvg, writeRunChart } from '../../../bench/flash-sale/chart.js';
import type { RunChartInput } from '../../../bench/flash-sale/chart.js';

const OUTPUT = fileURLToPath(new URL('../../../test-results/flash-sale-chart/', import.meta.url));
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** 30 s in 0.5 s buckets: the rush at the opening, the projector down from 8 s to 13 s, a Redis failover at 21 s. */
const syntheticRun = (): RunChartInput => {
  const bucketSeconds = 0.5;
  const seconds = Array.from({ length: 60 }, (_, index) => index * bucketSeconds);
  const down = (second: number): boolean => second >= 8 && second < 13;
  const requestsPerSecond = seconds.map((second) => Math.round(9000 * Math.exp(-second / 4) + 400 + (down(second) ? -250 : 0) + (second === 21 ? -300 : 0)));
  const p99Ms = seconds.map((second) => {
    if (second === 21) return null;
    if (down(second)) return 700 + (second - 8) * 180;
    return Math.round(60 + 900 * Math.exp(-second / 2.5));
  });
  // 100 units: 90 sold in the first 2.5 s, 10 of those cancelled after the outage (payment timed out), 20 more sold then.
  const confirmed = seconds.map((second) => (second < 2.5 ? 18 : second >= 13 && second < 15 ? 5 : 0));
  const cancelled = seconds.map((second) => (second === 13 ? 10 : 0));
  const refused = seconds.map((second, index) => (down(second) ? 0 : Math.max(0, Math.round((requestsPerSecond[index] ?? 0) * bucketSeconds * 0.05) - (confirmed[index] ?? 0))));
  const errors = seconds.map((second) => (down(second) ? 12 + Math.round((second - 8) * 4) : second === 21 ? 30 : 0));
  return {
    title: 'flash sale: 10,000 buyers, 100 units, fault: projector SIGKILL',
    bucketSeconds,
    seconds,
    requestsPerSecond,
    outcomes: { confirmed, cancelled, refused, errors },
    p99Ms,
    faults: [
      { label: 'projector SIGKILL', from: 8, to: 13 },
      { label: 'Redis failover', from: 21 },
    ],
  };
};

/** Width and height from the PNG's IHDR chunk, which comes right after the signature. */
const pngSize = (png: Buffer): { width: number; height: number } => {
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
};

describe('flash-sale run chart', () => {
  it('draws the title, the series and the faults into the SVG', () => {
    const svg = renderRunChartSvg(syntheticRun());
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('flash sale: 10,000 buyers, 100 units, fault: projector SIGKILL');
    for (const label of ['projector SIGKILL', 'Redis failover', '500 ms', '1,000 ms']) expect(svg).toContain(label);
    for (const series of ['requests/s', 'p99 checkout latency (ms)', 'confirmed', 'cancelled', 'refused', 'errors']) expect(svg).toContain(`>${series}<`);
  });

  it('renders a PNG of the configured size and writes it', async () => {
    const input = syntheticRun();
    const png = renderRunChartPng(input);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(pngSize(png)).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });

    const file = `${OUTPUT}flash-sale-run.png`;
    await writeRunChart(input, file);
    const written = await readFile(file);
    expect(written.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(pngSize(written)).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });
  });

  it('finds a font for the text here, and would notice none', () => {
    expect(drawsText()).toBe(true);
    expect(drawsText({ loadSystemFonts: false })).toBe(false);
  });

  it('takes another size', () => {
    expect(pngSize(renderRunChartPng({ ...syntheticRun(), width: 900, height: 600 }))).toEqual({ width: 900, height: 600 });
  });

  it('refuses series whose lengths differ from the buckets', () => {
    const run = syntheticRun();
    expect(() => renderRunChartSvg({ ...run, p99Ms: run.p99Ms.slice(1) })).toThrow(/p99Ms has 59 values; seconds has 60/);
  });
});
