import { describe, expect, it } from 'vitest';
import type { Series } from '../src/api';
import { bandRanges, yExtent } from '../src/bands';
import { appendPoint, chartData, exportRows, seriesOption } from '../src/charts';
import { BEIJING_OFFSET_MS } from '../src/format';

const lakeTp = [
  { class: 'I', upper: 0.01 },
  { class: 'II', upper: 0.025 },
  { class: 'III', upper: 0.05 },
  { class: 'IV', upper: 0.1 },
  { class: 'V', upper: 0.2 },
] as Series['bands'];

const doBands = [
  { class: 'I', lower: 7.5 },
  { class: 'II', lower: 6 },
  { class: 'III', lower: 5 },
  { class: 'IV', lower: 3 },
  { class: 'V', lower: 2 },
] as Series['bands'];

function raw(points: Series['points']): Series {
  return { datastream_id: 120, station: 'W01', parameter: 'tp', unit: 'mg/L', water_type: 'lake', interval_s: null, points, buckets: null, bands: lakeTp };
}

describe('class bands', () => {
  it('stacks "≤" bands from 0 and puts 劣Ⅴ above Ⅴ', () => {
    const r = bandRanges(lakeTp, 0, 0.3);
    expect(r.map((b) => b.class)).toEqual(['I', 'II', 'III', 'IV', 'V', 'WorseThanV']);
    expect(r[1]).toEqual({ class: 'II', from: 0.01, to: 0.025 });
    expect(r[5]).toEqual({ class: 'WorseThanV', from: 0.2, to: 0.3 });
  });

  it('clips to the axis and drops bands outside it', () => {
    const r = bandRanges(lakeTp, 0, 0.03);
    expect(r.map((b) => b.class)).toEqual(['I', 'II', 'III']);
    expect(r[2]).toEqual({ class: 'III', from: 0.025, to: 0.03 });
  });

  it('drops empty bands of shared limits (COD 15 for Ⅰ and Ⅱ)', () => {
    const cod = [
      { class: 'I', upper: 15 },
      { class: 'II', upper: 15 },
      { class: 'III', upper: 20 },
      { class: 'IV', upper: 30 },
      { class: 'V', upper: 40 },
    ] as Series['bands'];
    expect(bandRanges(cod, 0, 50).map((b) => b.class)).toEqual(['I', 'III', 'IV', 'V', 'WorseThanV']);
  });

  it('runs "≥" bands (DO) downwards with 劣Ⅴ at the bottom', () => {
    const r = bandRanges(doBands, 0, 12);
    expect(r.map((b) => b.class)).toEqual(['I', 'II', 'III', 'IV', 'V', 'WorseThanV']);
    expect(r[0]).toEqual({ class: 'I', from: 7.5, to: 12 });
    expect(r[5]).toEqual({ class: 'WorseThanV', from: 0, to: 2 });
  });

  it('draws pH as Ⅰ inside 6–9 and 劣Ⅴ outside', () => {
    const r = bandRanges([{ class: 'I', lower: 6, upper: 9 }], 5, 10);
    expect(r).toEqual([
      { class: 'WorseThanV', from: 5, to: 6 },
      { class: 'I', from: 6, to: 9 },
      { class: 'WorseThanV', from: 9, to: 10 },
    ]);
  });

  it('has no bands for unclassed parameters', () => {
    expect(bandRanges([], 0, 10)).toEqual([]);
  });

  it('scales the axis to the data and the next class limit', () => {
    const e = yExtent(lakeTp, 0.012, 0.021);
    expect(e.min).toBe(0);
    expect(e.max).toBeGreaterThanOrEqual(0.025);
    expect(e.max).toBeLessThan(0.05);
    const d = yExtent(doBands, 6.5, 9.2);
    expect(d.min).toBeLessThanOrEqual(6);
    expect(yExtent([], Infinity, -Infinity)).toEqual({ min: 0, max: 1.1 });
  });
});

describe('chart data', () => {
  it('keeps flagged values visible, breaks the line there', () => {
    const s = raw([
      { t: '2026-11-29T00:00:00Z', v: 0.02, flag: 'N' },
      { t: '2026-11-29T04:00:00Z', v: 0.5, flag: 'D' },
      { t: '2026-11-29T08:00:00Z', v: 0.021, flag: 'N' },
    ]);
    const d = chartData(s);
    expect(d.count).toBe(3);
    expect(d.valid.map((p) => p[1])).toEqual([0.02, null, 0.021]);
    expect(d.flagged).toHaveLength(1);
    expect(d.flagged[0]!.flag).toBe('D');
    expect(d.flagged[0]!.value[1]).toBe(0.5);
    expect(d.max).toBe(0.5);
    // Times are shifted to Beijing time for the UTC axis.
    expect(d.valid[0]![0]).toBe(Date.parse('2026-11-29T00:00:00Z') + BEIJING_OFFSET_MS);
  });

  it('draws buckets as mean line with min–max band and marks flagged buckets', () => {
    const s: Series = {
      ...raw(null),
      interval_s: 3600,
      buckets: [
        { t: '2026-11-29T00:00:00Z', avg: 0.02, min: 0.018, max: 0.023, n: 12, flagged: 0 },
        { t: '2026-11-29T01:00:00Z', avg: 0.03, min: 0.02, max: 0.05, n: 12, flagged: 2 },
      ],
    };
    const d = chartData(s);
    expect(d.count).toBe(24);
    expect(d.low.map((p) => p[1])).toEqual([0.018, 0.02]);
    expect(d.span[1]![1]).toBeCloseTo(0.03);
    expect(d.flagged).toEqual([{ value: [Date.parse('2026-11-29T01:00:00Z') + BEIJING_OFFSET_MS, 0.03], flag: '*', n: 2 }]);
    const opt = seriesOption(s, 'zh', { unit: 'mg/L', decimals: 3, name: '总磷' }) as { series: { id: string }[] };
    expect(opt.series.map((x) => x.id)).toEqual(['low', 'span', 'valid', 'flagged']);
  });

  it('puts the class bands behind the line as a mark area', () => {
    const s = raw([{ t: '2026-11-29T00:00:00Z', v: 0.03, flag: 'N' }]);
    const opt = seriesOption(s, 'en', { unit: 'mg/L', decimals: 3, name: 'TP' }) as {
      series: { id: string; markArea?: { data: [{ yAxis: number; itemStyle: { color: string } }, { yAxis: number }][] } }[];
    };
    const valid = opt.series.find((x) => x.id === 'valid')!;
    const colours = valid.markArea!.data.map((a) => a[0].itemStyle.color);
    expect(colours.slice(0, 3)).toEqual(['#CCFFFF', '#00CCFF', '#00FF00']);
  });

  it('appends live values in order only', () => {
    const s = raw([{ t: '2026-11-29T00:00:00Z', v: 0.02, flag: 'N' }]);
    expect(appendPoint(s, { t: '2026-11-29T01:00:00Z', v: 0.03, flag: 'N' })).toBe(true);
    expect(appendPoint(s, { t: '2026-11-29T00:30:00Z', v: 0.03, flag: 'N' })).toBe(false);
    expect(s.points).toHaveLength(2);
  });

  it('exports what is shown, with flags and their meaning', () => {
    const s = raw([
      { t: '2026-11-29T00:00:00Z', v: 0.02, flag: 'N' },
      { t: '2026-11-29T04:00:00Z', v: 0.5, flag: 'C' },
    ]);
    const rows = exportRows(s, 'zh', '总磷');
    expect(rows[0]).toEqual(['时间 (北京时间)', '总磷 (mg/L)', '数据标记', '']);
    expect(rows[2]).toEqual(['2026-11-29 12:00:00', 0.5, 'C', '校准']);
  });
});
