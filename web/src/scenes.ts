// The sky layer: a scene's classified overlay (PNG from /api/v1/scenes/{id}/overlay.png) drawn on
// the lake map at its WGS 84 bounds, and a timeline of the latest scenes to step through them.

import type { components } from './api-schema';
import { esc } from './dom';
import { t, type Lang } from './i18n';

export type Scene = components['schemas']['SceneSummary'];

/** The custom series drawing one scene's overlay (an empty series when there is none). */
export function sceneSeries(scene: Scene | undefined): Record<string, unknown> {
  const b = scene?.bounds;
  return {
    id: 'scene',
    type: 'custom',
    coordinateSystem: 'geo',
    silent: true,
    z: 1,
    data: scene && b && b.length === 4 ? [[b[0], b[1], b[2], b[3]]] : [],
    renderItem: (_p: unknown, api: { value: (i: number) => number; coord: (c: number[]) => number[] }) => {
      const [x0, y0] = api.coord([api.value(0), api.value(3)]);
      const [x1, y1] = api.coord([api.value(2), api.value(1)]);
      return {
        type: 'image',
        style: { image: scene?.overlay_url ?? '', x: x0, y: y0, width: x1 - x0, height: y1 - y0, opacity: 0.9 },
      };
    },
  };
}

/** Buttons for the scenes, oldest first; the selected one pressed; cloud-limited ones marked. */
export function sceneTimeline(scenes: Scene[], selected: number | undefined, lang: Lang): string {
  if (scenes.length === 0) return `<div class="scene-timeline" data-testid="scene-timeline"><span>${esc(t('scenes', lang))}: ${esc(t('scene_none', lang))}</span></div>`;
  const buttons = [...scenes]
    .sort((a, b) => a.time.localeCompare(b.time))
    .map((s) => {
      const day = s.time.slice(0, 10);
      const cloud = s.cloud_limited ? ` ☁ ${t('cloud_limited', lang)}` : '';
      const title = `${s.sensor} · ${t('bloom_area', lang)} ${s.bloom_area_km2.toFixed(2)} km² · ${t('valid_fraction', lang)} ${Math.round(s.valid_fraction * 100)}%${cloud}`;
      return `<button type="button" data-scene="${s.id}" aria-pressed="${s.id === selected}" title="${esc(title)}">${esc(day)} · ${s.bloom_area_km2.toFixed(2)} km²${s.cloud_limited ? ' ☁' : ''}</button>`;
    })
    .join('');
  return `<div class="scene-timeline" data-testid="scene-timeline"><span>${esc(t('scenes', lang))}:</span>${buttons}</div>`;
}

/** A scene document (`GET /api/v1/scenes/{id}`): the summary plus the analysis. */
export type SceneDetail = components['schemas']['SceneDocument'];

export async function getSceneDetail(id: number): Promise<SceneDetail> {
  const res = await fetch(`/api/v1/scenes/${id}`, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`scene ${id}: ${res.status}`);
  return (await res.json()) as SceneDetail;
}

const num = (v: number | null | undefined, digits: number) => (v === null || v === undefined ? '—' : v.toFixed(digits));
const pct = (v: number) => `${Math.round(v * 100)}%`;

/**
 * The selected scene's figures beside the stations' chl-a: per basin bloom area, coverage,
 * valid share, grade and the chl-a the NDCI fit estimates; then each same-day station matchup
 * (measured chl-a, NDCI there, what the fit gives) and the fit itself.
 */
export function sceneFigures(
  doc: SceneDetail,
  basins: { id: string; name: string }[],
  stationName: (code: string) => string,
  lang: Lang,
): string {
  const basinName = (id: string) => basins.find((b) => b.id === id)?.name ?? id;
  const rows = doc.basins
    .map(
      (b) => `<tr data-basin="${esc(b.basin)}"><td>${esc(basinName(b.basin))}</td><td>${num(b.bloom_area_km2, 2)} km²</td><td>${pct(b.coverage)}</td><td>${pct(b.valid_fraction)}${b.cloud_limited ? ' ☁' : ''}</td><td>${esc(b.grade)}</td><td>${num(b.chl_a_estimate, 1)}</td></tr>`,
    )
    .join('');
  const head = `<tr><th>${esc(t('basin', lang))}</th><th>${esc(t('bloom_area', lang))}</th><th>${esc(t('coverage', lang))}</th><th>${esc(t('valid_fraction', lang))}</th><th>${esc(t('bloom_grade', lang))}</th><th>${esc(t('chl_scene', lang))} µg/L</th></tr>`;
  const fit = doc.chl_fit;
  let matchups = `<div class="muted" data-testid="chl-fit-none">${esc(t('chl_fit_none', lang))}</div>`;
  if (fit) {
    const mrows = fit.matchups
      .map((m) => {
        const [code, ndci, chl] = [String(m[0]), Number(m[1]), Number(m[2])];
        return `<tr data-matchup="${esc(code)}"><td>${esc(stationName(code))}</td><td>${chl.toFixed(1)}</td><td>${ndci.toFixed(3)}</td><td>${(fit.intercept + fit.slope * ndci).toFixed(1)}</td></tr>`;
      })
      .join('');
    const sign = fit.slope < 0 ? '−' : '+';
    matchups = `<div class="fit" data-testid="chl-fit">${esc(t('chl_fit', lang))}: chl-a = ${fit.intercept.toFixed(1)} ${sign} ${Math.abs(fit.slope).toFixed(1)} · NDCI, r² = ${fit.r2.toFixed(2)}, n = ${fit.n}</div>
      <table class="list"><thead><tr><th>${esc(t('station', lang))}</th><th>${esc(t('chl_station', lang))} µg/L</th><th>NDCI</th><th>${esc(t('chl_scene', lang))} µg/L</th></tr></thead><tbody>${mrows}</tbody></table>`;
  }
  return `<div data-testid="scene-figures" data-scene="${doc.id}"><h3>${esc(t('scene_figures', lang))} · ${esc(doc.time.slice(0, 10))}</h3>
    <table class="list"><thead>${head}</thead><tbody>${rows}</tbody></table>${matchups}</div>`;
}

/** Bloom area per basin over the scenes; a cloud-limited scene's points are hollow and grey. */
export function bloomChartOption(docs: SceneDetail[], basins: { id: string; name: string }[], lang: Lang): Record<string, unknown> {
  const sorted = [...docs].sort((a, b) => a.time.localeCompare(b.time));
  return {
    animation: false,
    grid: { left: 40, right: 10, top: 24, bottom: 22 },
    legend: { top: 0, textStyle: { fontSize: 11 } },
    tooltip: { trigger: 'axis', valueFormatter: (v: number) => `${v.toFixed(2)} km²` },
    xAxis: { type: 'time' },
    yAxis: { type: 'value', name: 'km²', nameGap: 8, nameTextStyle: { fontSize: 10 } },
    series: basins.map((b) => ({
      id: `bloom-${b.id}`,
      name: b.name,
      type: 'line',
      data: sorted.map((d) => {
        const f = d.basins.find((x) => x.basin === b.id);
        return {
          value: [d.time, f?.bloom_area_km2 ?? null],
          symbol: f?.cloud_limited ? 'emptyCircle' : 'circle',
          symbolSize: f?.cloud_limited ? 9 : 6,
          itemStyle: f?.cloud_limited ? { color: '#888' } : undefined,
          name: f?.cloud_limited ? t('cloud_limited', lang) : '',
        };
      }),
    })),
  };
}
