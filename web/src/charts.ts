// A parameter's time series with the GB 3838 class bands behind the line. Invalid and flagged
// values are drawn as their own marked series (never dropped), and the line breaks where they sit,
// so a reader sees both that a value exists and that it does not count.
import type { Band, Series } from './api';
import { bandRanges, yExtent } from './bands';
import { classColour, classLabel, ROMAN } from './classes';
import type { echarts } from './echarts';
import { BEIJING_OFFSET_MS, formatTime, formatValue, toDate } from './format';
import { flagLabel, t, type Lang } from './i18n';

export const FLAG_COLOUR = '#7b1fa2';

/** x coordinates are shifted to Beijing time and the axis runs in UTC: labels then read Beijing time in any browser. */
const bx = (iso: string) => (toDate(iso)?.getTime() ?? NaN) + BEIJING_OFFSET_MS;

export interface ChartData {
  valid: [number, number | null][];
  flagged: { value: [number, number]; flag: string; n?: number }[];
  low: [number, number | null][];
  span: [number, number | null][];
  min: number;
  max: number;
  count: number;
}

/** Splits a series into what the chart draws. Flagged = data flag other than N (HJ 212 §13.3). */
export function chartData(s: Series): ChartData {
  const valid: [number, number | null][] = [];
  const flagged: ChartData['flagged'] = [];
  const low: [number, number | null][] = [];
  const span: [number, number | null][] = [];
  let min = Infinity;
  let max = -Infinity;
  const see = (v: number | null | undefined) => {
    if (v === null || v === undefined || !Number.isFinite(v)) return;
    min = Math.min(min, v);
    max = Math.max(max, v);
  };
  let count = 0;
  if (s.points) {
    for (const p of s.points) {
      const x = bx(p.t);
      see(p.v);
      count++;
      if (p.flag && p.flag !== 'N') {
        valid.push([x, null]); // break the line
        if (p.v !== null) flagged.push({ value: [x, p.v], flag: p.flag });
      } else {
        valid.push([x, p.v]);
      }
    }
  } else if (s.buckets) {
    for (const b of s.buckets) {
      const x = bx(b.t);
      see(b.min);
      see(b.max);
      see(b.avg);
      count += b.n;
      valid.push([x, b.avg]);
      low.push([x, b.min]);
      span.push([x, b.min !== null && b.max !== null ? b.max - b.min : null]);
      if (b.flagged > 0 && b.avg !== null) flagged.push({ value: [x, b.avg], flag: '*', n: b.flagged });
    }
  }
  return { valid, flagged, low, span, min, max, count };
}

export function seriesOption(s: Series, lang: Lang, opts: { unit: string; decimals: number; name: string; big?: boolean }): echarts.EChartsCoreOption {
  const d = chartData(s);
  const bands: Band[] = s.bands ?? [];
  const ext = yExtent(bands, d.min, d.max);
  const areas = bandRanges(bands, ext.min, ext.max).map((b) => [
    {
      yAxis: b.from,
      itemStyle: { color: classColour(b.class), opacity: 0.28 },
      label: { show: true, position: 'insideRight', formatter: lang === 'zh' ? classLabel(b.class, 'zh') : ROMAN[b.class], color: '#334', fontSize: opts.big ? 14 : 11 },
    },
    { yAxis: b.to },
  ]);
  const fs = opts.big ? 15 : 12;
  const tooltipTime = (x: number) => formatTime(x - BEIJING_OFFSET_MS);
  const fmt = (v: number | null | undefined) => formatValue(v ?? null, opts.decimals);
  const aggregated = !!s.buckets;
  return {
    animation: false,
    useUTC: true,
    grid: { left: 64, right: 48, top: 36, bottom: 56 },
    legend: { top: 4, textStyle: { fontSize: fs } },
    tooltip: {
      trigger: 'axis',
      confine: true,
      formatter: (ps: { seriesId: string; data: unknown; axisValue: number }[]) => {
        if (!ps.length) return '';
        const lines = [`<b>${tooltipTime(ps[0]!.axisValue)}</b>`];
        for (const p of ps) {
          if (p.seriesId === 'valid') {
            const v = (p.data as [number, number | null])[1];
            lines.push(`${aggregated ? t('bucket_avg', lang) : opts.name}: ${fmt(v)} ${opts.unit}`);
          } else if (p.seriesId === 'flagged') {
            const f = p.data as ChartData['flagged'][number];
            lines.push(
              f.n !== undefined
                ? `<span style="color:${FLAG_COLOUR}">▲ ${t('bucket_flagged', lang)}: ${f.n}</span>`
                : `<span style="color:${FLAG_COLOUR}">▲ ${fmt(f.value[1])} ${opts.unit} — ${f.flag} ${flagLabel(f.flag, lang)}</span>`,
            );
          } else if (p.seriesId === 'span') {
            const i = d.span.findIndex((x) => x[0] === (p.data as [number, number])[0]);
            if (i >= 0) lines.push(`${t('bucket_range', lang)}: ${fmt(d.low[i]![1])} – ${fmt((d.low[i]![1] ?? 0) + (d.span[i]![1] ?? 0))}`);
          }
        }
        return lines.join('<br>');
      },
    },
    xAxis: { type: 'time', axisLabel: { fontSize: fs, hideOverlap: true } },
    yAxis: {
      type: 'value',
      min: ext.min,
      max: ext.max,
      name: opts.unit,
      nameTextStyle: { fontSize: fs },
      axisLabel: { fontSize: fs, formatter: (v: number) => String(Number(v.toPrecision(4))) },
      splitLine: { lineStyle: { color: '#e3e7ec' } },
    },
    dataZoom: [{ type: 'inside', throttle: 50 }],
    series: [
      ...(aggregated
        ? [
            { id: 'low', type: 'line', data: d.low, stack: 'range', symbol: 'none', lineStyle: { opacity: 0 }, silent: true, tooltip: { show: false } },
            { id: 'span', name: t('bucket_range', lang), type: 'line', data: d.span, stack: 'range', symbol: 'none', lineStyle: { opacity: 0 }, areaStyle: { color: 'rgba(30, 80, 140, 0.18)' } },
          ]
        : []),
      {
        id: 'valid',
        name: aggregated ? t('bucket_avg', lang) : t('valid_values', lang),
        type: 'line',
        data: d.valid,
        showSymbol: d.valid.length < 120,
        symbolSize: 5,
        connectNulls: false,
        lineStyle: { color: '#16365c', width: opts.big ? 2.5 : 1.8 },
        itemStyle: { color: '#16365c' },
        markArea: { silent: true, data: areas },
      },
      {
        id: 'flagged',
        name: t('flagged_values', lang),
        type: 'scatter',
        data: d.flagged,
        symbol: 'triangle',
        symbolSize: opts.big ? 11 : 9,
        itemStyle: { color: FLAG_COLOUR, borderColor: '#fff', borderWidth: 1 },
        z: 10,
      },
    ],
  };
}

/** Adds a live value to a raw series (ignores aggregated series and values outside the window). */
export function appendPoint(s: Series, p: { t: string; v: number | null; flag: string | null }): boolean {
  if (!s.points) return false;
  const last = s.points[s.points.length - 1];
  if (last && (toDate(p.t)?.getTime() ?? 0) <= (toDate(last.t)?.getTime() ?? 0)) return false;
  s.points.push({ t: p.t, v: p.v, flag: p.flag });
  return true;
}

/** Rows of the shown data for CSV/Excel export. */
export function exportRows(s: Series, lang: Lang, name: string): (string | number | null)[][] {
  const unit = s.unit || '';
  if (s.points) {
    return [
      [`${t('time', lang)} (${t('beijing_time', lang)})`, `${name} (${unit})`, t('flag', lang), ''],
      ...s.points.map((p) => [formatTime(p.t, true), p.v, p.flag, p.flag && p.flag !== 'N' ? flagLabel(p.flag, lang) : '']),
    ];
  }
  return [
    [`${t('time', lang)} (${t('beijing_time', lang)})`, `${t('bucket_avg', lang)} (${unit})`, 'min', 'max', t('bucket_n', lang), t('bucket_flagged', lang)],
    ...(s.buckets ?? []).map((b) => [formatTime(b.t, true), b.avg, b.min, b.max, b.n, b.flagged]),
  ];
}
