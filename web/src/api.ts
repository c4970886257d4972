// Typed client of the domain API (docs/api.md). Every request is same-origin: the dashboard is
// served by qingshui itself, and in dev mode Vite proxies /api to it.
import type { components } from './api-schema';
import type { ClassKey } from './classes';

/** The bodies the server sends, generated from its OpenAPI document (web/openapi.json). */
type Schemas = components['schemas'];

export interface Named {
  name_zh: string;
  name_en: string;
}

export type Parameter = Schemas['ParameterBody'];
export type LatestValue = Schemas['StationLatest'];
export type Station = Schemas['StationBody'];
export type VideoPoint = Schemas['VideoPointBody'];
export type Palette = Schemas['Palette'];

/** GeoJSON of a zone: the contract says "an object"; the shape is GeoJSON's, not ours. */
export interface ZoneFeature {
  type: 'Feature';
  properties: { id: string; kind: string; name_zh: string; name_en: string; [k: string]: unknown };
  geometry: { type: 'Polygon' | 'MultiPolygon'; coordinates: unknown };
}

export type Network = Omit<Schemas['NetworkBody'], 'zones'> & {
  zones: { type: 'FeatureCollection'; features: ZoneFeature[] };
};

export type SeriesPoint = Schemas['SeriesPoint'];
export type SeriesBucket = Schemas['SeriesBucket'];
export type Band = Schemas['Band'];
export type Series = Schemas['SeriesBody'];

// The assessment explanation is `wq`'s own JSON and not yet typed in the contract (the document
// says "scope, from, to and more"): these interfaces describe it until it is.
export interface IndicatorResult extends Named {
  parameter: string;
  unit: string;
  value: number | null;
  display: string;
  class: ClassKey | null;
  classification?: { result: string; class?: ClassKey; limit?: { text?: string }; reason?: string };
  exceedance_multiple: number | null;
  meets_target: boolean | null;
  counts: { total: number; valid: number; invalid: number; invalid_by_flag: number; invalid_by_qc: number; incomplete: boolean; coverage: number | null };
}

export interface MainPollutant extends Named {
  parameter: string;
  class: ClassKey;
  exceedance_multiple: number | null;
  display_zh: string;
  display_en: string;
}

export interface TliResult {
  status: 'computed';
  tli: number;
  state: string;
  state_zh: string;
  state_en: string;
  colour: string;
  components: { component: string; parameter: string; value: number; index: number; weight: number }[];
  missing: string[];
}

export type Trophic = TliResult | { status: 'not_computed'; reason: string };

export interface StationAssessment {
  station: string | null;
  water_type: string;
  class: ClassKey | null;
  wording_zh: string;
  wording_en: string;
  grade: string;
  grade_zh: string;
  grade_en: string;
  colour: string;
  partial: boolean;
  missing_core_items: string[];
  limiting_parameters: string[];
  indicators: IndicatorResult[];
  reference_indicators: IndicatorResult[];
  other_parameters: IndicatorResult[];
  target: { target_class: ClassKey; meets_target: boolean | null; exceeding_items: { parameter: string; name_zh: string; name_en: string; class: ClassKey; multiple_over_target: number | null; target_limit: string | null }[] } | null;
  main_pollutants: MainPollutant[];
  trophic: Trophic | null;
  drinking_water?: unknown;
}

export interface WaterBodyAssessment {
  water_type: string;
  method: string;
  grade: string;
  grade_zh: string;
  grade_en: string;
  colour: string;
  class: ClassKey | null;
  stations: StationAssessment[];
  combined: StationAssessment | null;
  proportion: { sections: number; counts_by_class: number[]; share_good_percent: number; share_worse_than_v_percent: number } | null;
  main_pollutants: (Named & { parameter: string; sections_worse_than_iii: number; exceedance_rate_percent: number })[];
}

/** What data review did to an assessment's values (docs/review.md). */
export interface ReviewTally {
  invalidated: number;
  confirmed: number;
  unreviewed: number;
}
export type Assessment = (StationAssessment | WaterBodyAssessment) & { scope: string; from: string; to: string; review?: ReviewTally };

export function isWaterBody(a: StationAssessment | WaterBodyAssessment): a is WaterBodyAssessment {
  return 'method' in a;
}

export type Alert = Schemas['AlertView'];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Who the dashboard acts as (`GET /api/v1/session`); its CSRF token goes on every change. */
export type Session = Schemas['SessionView'];
let csrf: string | null = null;

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  const method = (init?.method ?? 'GET').toUpperCase();
  // A state change made with the login cookie echoes the session's CSRF token.
  const extra: Record<string, string> = method !== 'GET' && csrf ? { 'X-CSRF-Token': csrf } : {};
  const res = await fetch(path, { ...init, credentials: 'same-origin', headers: { Accept: 'application/json', ...extra, ...(init?.headers ?? {}) } });
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { message?: string };
      if (body.message) msg = body.message;
    } catch {
      /* not JSON: keep the status line */
    }
    throw new ApiError(res.status, msg);
  }
  return (await res.json()) as T;
}

export async function getSession(): Promise<Session> {
  const s = await request<Session>('/api/v1/session');
  csrf = s.csrf ?? null;
  return s;
}

export async function login(name: string, password: string): Promise<Session> {
  const s = await request<Session>('/api/v1/session', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, password }),
  });
  csrf = s.csrf ?? null;
  return s;
}

export async function logout(): Promise<void> {
  const res = await fetch('/api/v1/session', { method: 'DELETE', credentials: 'same-origin', headers: csrf ? { 'X-CSRF-Token': csrf } : {} });
  csrf = null;
  if (!res.ok && res.status !== 401) throw new ApiError(res.status, res.statusText);
}

export type AuditEntry = Schemas['AuditEntryView'];

export async function getAudit(action: string, principal: string): Promise<AuditEntry[]> {
  const q = new URLSearchParams({ limit: '200' });
  if (action) q.set('action', action);
  if (principal) q.set('principal', principal);
  return (await request<Schemas['AuditBody']>(`/api/v1/audit?${q}`)).value;
}

export type Review = Schemas['ReviewView'];
export type Approval = Schemas['ApprovalView'];

export async function getReviews(datastream: number, from: Date, to: Date): Promise<Review[]> {
  const q = new URLSearchParams({ datastreams: String(datastream), from: from.toISOString(), to: to.toISOString() });
  return (await request<Schemas['ReviewsBody']>(`/api/v1/reviews?${q}`)).value;
}

export function createReview(body: Schemas['NewReviewBody']): Promise<Review> {
  return request<Review>('/api/v1/reviews', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

export function undoReview(id: number): Promise<Review> {
  return request<Review>(`/api/v1/reviews/${id}/undo`, { method: 'POST' });
}

export async function getApprovals(station: string, from: string, to: string): Promise<Approval[]> {
  const q = new URLSearchParams({ station, from, to });
  return (await request<Schemas['ApprovalsBody']>(`/api/v1/approvals?${q}`)).value;
}

export function approveDay(station: string, day: string): Promise<Approval> {
  return request<Approval>('/api/v1/approvals', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ station, day }) });
}

export async function undoApproval(id: number): Promise<void> {
  await fetch(`/api/v1/approvals/${id}/undo`, { method: 'POST', credentials: 'same-origin', headers: csrf ? { 'X-CSRF-Token': csrf } : {} });
}

export function getNetwork(): Promise<Network> {
  return request<Network>('/api/v1/network');
}

export function getSeries(datastream: number, from: Date, to: Date, interval = 'auto'): Promise<Series> {
  const q = new URLSearchParams({ datastream: String(datastream), from: from.toISOString(), to: to.toISOString(), interval });
  return request<Series>(`/api/v1/series?${q}`);
}

export function getAssessment(scope: string, period: string, from?: Date, to?: Date): Promise<Assessment> {
  const q = new URLSearchParams({ scope, period });
  if (from) q.set('from', from.toISOString());
  if (to) q.set('to', to.toISOString());
  return request<Assessment>(`/api/v1/assessment?${q}`);
}

/** One page of alerts, newest first (`{ count, value }`). */
export async function getAlerts(): Promise<Alert[]> {
  const body = await request<Schemas['AlertList']>('/api/v1/alerts');
  return body.value;
}

export function alertAction(id: number, action: 'ack' | 'clear'): Promise<unknown> {
  return request(`/api/v1/alerts/${id}/${action}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{}',
  });
}

export type Play = Schemas['PlayBody'];

/** Starts (or joins) the live view of a video point: the stream URLs of the media server. */
export function playVideo(point: string): Promise<Play> {
  return request<Play>(`/api/v1/video/${encodeURIComponent(point)}/play`, { method: 'POST' });
}

export function stopVideo(point: string): Promise<Schemas['StopBody']> {
  return request<Schemas['StopBody']>(`/api/v1/video/${encodeURIComponent(point)}/play`, { method: 'DELETE' });
}

/** The snapshot URL an alert links (`details.snapshot`), when its camera uploaded one. Only our
 *  own same-origin snapshot path is accepted: the URL ends up in an <img>. */
export function snapshotOf(a: Alert): string | null {
  const s = a.details?.snapshot;
  return typeof s === 'string' && /^\/api\/v1\/video\/snapshots\/[0-9a-f]{32}$/.test(s) ? s : null;
}
