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

/** One basin's figures in a scene document (`GET /api/v1/scenes/{id}`). */
export interface SceneBasin {
  basin: string;
  bloom_area_km2: number;
  cloud_limited: boolean;
}
export interface SceneDetail {
  id: number;
  time: string;
  basins: SceneBasin[];
}

export async function getSceneDetail(id: number): Promise<SceneDetail> {
  const res = await fetch(`/api/v1/scenes/${id}`, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`scene ${id}: ${res.status}`);
  return (await res.json()) as SceneDetail;
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
