import { describe, expect, it } from 'vitest';
import { beijingParts, calendarPeriod, chartWindow, formatInterval, formatPollutant, formatTime, formatValue, periodLabel, percent, reportPeriod, reportUrl, toCsv, toDate } from '../src/format';

describe('formatting', () => {
  it('formats values with the catalogue decimals', () => {
    expect(formatValue(0.0214, 3)).toBe('0.021');
    expect(formatValue(7.5, 2)).toBe('7.50');
    expect(formatValue(12.34, 1)).toBe('12.3');
    expect(formatValue(25000000, 0)).toBe('25,000,000');
    expect(formatValue(null, 2)).toBe('—');
    expect(formatValue(Number.NaN, 2)).toBe('—');
  });

  it('writes main pollutants the national way', () => {
    expect(formatPollutant('总磷', 0.44)).toBe('总磷(0.44)');
    expect(formatPollutant('溶解氧', null)).toBe('溶解氧');
  });

  it('shows times in Beijing time whatever the browser zone', () => {
    expect(formatTime('2026-11-29T08:00:00.000Z')).toBe('2026-11-29 16:00');
    expect(formatTime('2026-11-29T16:30:05Z', true)).toBe('2026-11-30 00:30:05');
    expect(formatTime(1764403200)).toBe('2025-11-29 16:00'); // unix seconds
    expect(formatTime(1764403200000)).toBe('2025-11-29 16:00'); // milliseconds
    expect(formatTime('2026-11-29T22:00:00.000Z/2026-11-29T23:00:00.000Z')).toBe('2026-11-30 06:00');
    expect(formatTime(null)).toBe('—');
    expect(formatTime('garbage')).toBe('—');
    expect(toDate('2026-01-01T00:00:00Z')?.getTime()).toBe(Date.UTC(2026, 0, 1));
  });

  it('computes Beijing calendar periods', () => {
    const m = calendarPeriod('month', 2026, 11);
    expect(m.from.toISOString()).toBe('2026-10-31T16:00:00.000Z');
    expect(m.to.toISOString()).toBe('2026-11-30T16:00:00.000Z');
    const q = calendarPeriod('quarter', 2026, 4);
    expect(q.from.toISOString()).toBe('2026-09-30T16:00:00.000Z');
    expect(q.to.toISOString()).toBe('2026-12-31T16:00:00.000Z');
    const y = calendarPeriod('year', 2026, 1);
    expect(y.from.toISOString()).toBe('2025-12-31T16:00:00.000Z');
    expect(y.to.toISOString()).toBe('2026-12-31T16:00:00.000Z');
    // 23:00 UTC on 31 Dec is already 1 January in Beijing.
    expect(beijingParts(new Date('2026-12-31T23:00:00Z'))).toEqual({ year: 2027, month: 1, quarter: 1 });
    expect(periodLabel('quarter', 2026, 2, 'zh')).toBe('2026年第2季度');
    expect(periodLabel('month', 2026, 3, 'en')).toBe('2026-03');
    expect(reportPeriod('month', 2026, 3)).toBe('2026-03');
    expect(reportPeriod('quarter', 2026, 4)).toBe('2026-Q4');
    expect(reportPeriod('year', 2026, 1)).toBe('2026');
    expect(reportUrl('month', 2026, 11, 'pdf', 'zh')).toBe('/api/v1/reports?period=2026-11&format=pdf&lang=zh&scope=network');
  });

  it('chart windows end at the given instant', () => {
    const end = new Date('2026-11-29T00:00:00Z');
    const w = chartWindow('week', end);
    expect(w.from.toISOString()).toBe('2026-11-22T00:00:00.000Z');
    expect(w.to.getTime()).toBeGreaterThan(end.getTime());
  });

  it('formats intervals and shares', () => {
    expect(formatInterval(3600, 'zh')).toBe('1小时');
    expect(formatInterval(900, 'en')).toBe('15 min');
    expect(formatInterval(86400 * 2, 'en')).toBe('2 d');
    expect(percent(17, 18)).toBe('94%');
    expect(percent(0, 0)).toBe('—');
  });

  it('writes CSV for Excel: BOM, quoting, CRLF', () => {
    const csv = toCsv([
      ['时间', '总磷 (mg/L)'],
      ['2026-11-29 16:00', 0.021],
      ['a,"b"', null],
    ]);
    expect(csv.startsWith('\uFEFF')).toBe(true);
    expect(csv).toBe('\uFEFF时间,总磷 (mg/L)\r\n2026-11-29 16:00,0.021\r\n"a,""b""",\r\n');
  });
});
