// Formatting: numbers with the catalogue's decimals, times in Beijing time (HJ 212 and the national
// method count days in UTC+8, so the dashboard does too, whatever the browser's time zone), and
// the calendar periods of the assessment page.
import type { Lang } from './i18n';

export const BEIJING_OFFSET_MS = 8 * 3600 * 1000;

/** A value with the parameter's decimals; large counts (algal density, coliform) get separators. */
export function formatValue(v: number | null | undefined, decimals: number | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const d = decimals ?? 3;
  if (Math.abs(v) >= 100000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(Math.max(0, Math.min(6, d)));
}

/** Exceedance multiple as the national method writes it: "总磷(0.44)". */
export function formatPollutant(name: string, multiple: number | null | undefined): string {
  return multiple === null || multiple === undefined ? name : `${name}(${multiple})`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Accepts ISO strings and unix seconds or milliseconds (the alert record uses numbers). */
export function toDate(x: string | number | Date | null | undefined): Date | null {
  if (x === null || x === undefined) return null;
  if (x instanceof Date) return x;
  if (typeof x === 'number') return new Date(x < 1e11 ? x * 1000 : x);
  // An ISO interval "start/end" (a SensorThings phenomenonTime of hourly data) reads as its start,
  // the hour HJ 212 stamps the value with.
  const d = new Date(x.includes('/') ? x.split('/')[0]! : x);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "2026-11-29 16:00" in Beijing time. */
export function formatTime(x: string | number | Date | null | undefined, withSeconds = false): string {
  const d = toDate(x);
  if (!d) return '—';
  const b = new Date(d.getTime() + BEIJING_OFFSET_MS);
  const s = `${b.getUTCFullYear()}-${pad(b.getUTCMonth() + 1)}-${pad(b.getUTCDate())} ${pad(b.getUTCHours())}:${pad(b.getUTCMinutes())}`;
  return withSeconds ? `${s}:${pad(b.getUTCSeconds())}` : s;
}

/** A bucket width as people say it: 15 min, 2 h, 1 d. */
export function formatInterval(seconds: number, lang: Lang): string {
  if (seconds % 86400 === 0) return lang === 'zh' ? `${seconds / 86400}天` : `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return lang === 'zh' ? `${seconds / 3600}小时` : `${seconds / 3600} h`;
  if (seconds % 60 === 0) return lang === 'zh' ? `${seconds / 60}分钟` : `${seconds / 60} min`;
  return `${seconds} s`;
}

export type RangeKey = 'day' | 'week' | 'month' | 'year';
export const RANGE_MS: Record<RangeKey, number> = {
  day: 86400e3,
  week: 7 * 86400e3,
  month: 30 * 86400e3,
  year: 365 * 86400e3,
};

/** The chart window ending at `end` (the later of now and the newest value: the demo may run ahead). */
export function chartWindow(range: RangeKey, end: Date): { from: Date; to: Date } {
  return { from: new Date(end.getTime() - RANGE_MS[range]), to: new Date(end.getTime() + 60e3) };
}

export type PeriodKind = 'month' | 'quarter' | 'year';

/** Beijing calendar period containing `at`: [from, to) as UTC instants. */
export function calendarPeriod(kind: PeriodKind, year: number, index: number): { from: Date; to: Date } {
  // index: month 1–12, quarter 1–4, ignored for a year.
  let m0: number;
  let months: number;
  if (kind === 'month') {
    m0 = index - 1;
    months = 1;
  } else if (kind === 'quarter') {
    m0 = (index - 1) * 3;
    months = 3;
  } else {
    m0 = 0;
    months = 12;
  }
  const from = new Date(Date.UTC(year, m0, 1) - BEIJING_OFFSET_MS);
  const to = new Date(Date.UTC(year, m0 + months, 1) - BEIJING_OFFSET_MS);
  return { from, to };
}

/** Year, month and quarter of an instant in Beijing time. */
export function beijingParts(at: Date): { year: number; month: number; quarter: number } {
  const b = new Date(at.getTime() + BEIJING_OFFSET_MS);
  const month = b.getUTCMonth() + 1;
  return { year: b.getUTCFullYear(), month, quarter: Math.floor((month - 1) / 3) + 1 };
}

export function periodLabel(kind: PeriodKind, year: number, index: number, lang: Lang): string {
  if (kind === 'year') return lang === 'zh' ? `${year}年` : String(year);
  if (kind === 'quarter') return lang === 'zh' ? `${year}年第${index}季度` : `${year} Q${index}`;
  return lang === 'zh' ? `${year}年${index}月` : `${year}-${pad(index)}`;
}

/** The report period code of `GET /api/v1/reports`: `2026-11`, `2026-Q4`, `2026`. */
export function reportPeriod(kind: PeriodKind, year: number, index: number): string {
  if (kind === 'year') return String(year);
  if (kind === 'quarter') return `${year}-Q${index}`;
  return `${year}-${pad(index)}`;
}

/** The download URL of a water-quality report (docs/reports.md). */
export function reportUrl(kind: PeriodKind, year: number, index: number, format: 'pdf' | 'xlsx', lang: Lang, scope = 'network'): string {
  const q = new URLSearchParams({ period: reportPeriod(kind, year, index), format, lang, scope });
  return `/api/v1/reports?${q.toString()}`;
}

export function percent(n: number, d: number): string {
  if (d <= 0) return '—';
  return `${Math.round((100 * n) / d)}%`;
}

/** RFC 4180 CSV, with a BOM so that Excel opens the Chinese headers as UTF-8. */
export function toCsv(rows: (string | number | null | undefined)[][]): string {
  const cell = (c: string | number | null | undefined) => {
    if (c === null || c === undefined) return '';
    const s = String(c);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return '\uFEFF' + rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
