// The lake map: the network's zones (GeoJSON from /api/v1/network) drawn with ECharts' geo
// component on a plain background (no tile server is reachable from a monitoring centre, and the
// positions are schematic anyway), stations in their class colours, video points by status.
import type { Network, Station, VideoPoint, ZoneFeature } from './api';
import { classColour, classLabel } from './classes';
import { esc } from './dom';
import { echarts, type ECharts } from './echarts';
import { flagLabel, nameOf, t, type Lang } from './i18n';
import { sceneSeries, type Scene } from './scenes';
import { openCameraPanel } from './camera';

export const MAP_NAME = 'qingshui-network';

const ZONE_STYLE: Record<string, { areaColor: string; borderColor: string; borderWidth: number; borderType?: 'dashed' | 'dotted' }> = {
  lake_outline: { areaColor: '#cfe8f6', borderColor: '#3a7fb8', borderWidth: 1.5 },
  protection_level1: { areaColor: 'rgba(0, 92, 175, 0.16)', borderColor: '#0b4f9c', borderWidth: 1.5, borderType: 'dashed' },
  protection_level2: { areaColor: 'rgba(0, 92, 175, 0.08)', borderColor: '#0b4f9c', borderWidth: 1, borderType: 'dashed' },
  shore_watch: { areaColor: 'rgba(0,0,0,0)', borderColor: '#7d6b4f', borderWidth: 1, borderType: 'dotted' },
};

/** GeoJSON with `properties.name` = zone id, which is what ECharts keys regions by. */
export function zonesForEcharts(n: Network): { type: 'FeatureCollection'; features: ZoneFeature[] } {
  // The outline first so that the smaller zones are drawn on top of it.
  const order = (f: ZoneFeature) => (f.properties.kind === 'lake_outline' ? 0 : 1);
  const features = n.zones.features
    .slice()
    .sort((a, b) => order(a) - order(b))
    .map((f) => ({ ...f, properties: { ...f.properties, name: f.properties.id } }));
  return { type: 'FeatureCollection', features };
}

export interface MapSizes {
  station: number;
  intake: number;
  video: number;
  font: number;
}

export function mapSizes(width: number): MapSizes {
  // The wall screen is read from several metres away: scale markers with the map's width.
  const k = Math.max(0.8, Math.min(1.6, width / 900));
  return { station: Math.round(15 * k), intake: Math.round(24 * k), video: Math.round(8 * k), font: Math.round(12 * k) };
}

function stationLabel(s: Station, lang: Lang): string {
  if (s.kind !== 'intake') return s.code;
  const verdict = s.meets_target === null ? t('target_unknown', lang) : s.meets_target ? `✔ ${t('meets_target', lang)}` : `✘ ${t('fails_target', lang)}`;
  return `${s.code} ${nameOf(s, lang)}\n${t('target', lang)} ${classLabel(s.target_class, lang)} · ${verdict}`;
}

/** GB/T 28181 health lines of a video point's tooltip (what the platform learned from it). */
function cameraLines(v: VideoPoint, lang: Lang): string[] {
  const cam = (v.camera ?? null) as Record<string, unknown> | null;
  if (!cam) return [];
  const lines: string[] = [];
  const str = (k: string) => (typeof cam[k] === 'string' ? (cam[k] as string) : null);
  if (str('last_keepalive')) lines.push(`${t('last_keepalive', lang)}: ${esc(str('last_keepalive')!.replace('T', ' ').slice(0, 19))}`);
  if (str('model') || str('firmware')) lines.push(`${t('firmware', lang)}: ${esc([str('model'), str('firmware')].filter(Boolean).join(' / '))}`);
  if (typeof cam.clock_drift_s === 'number') lines.push(`${t('clock_drift', lang)}: ${cam.clock_drift_s} s`);
  return lines;
}

export function videoColour(v: VideoPoint): string {
  // Unknown status (no video platform connected) stays visible but neutral.
  return v.online === true ? '#1b7f3b' : v.online === false ? '#8a8a8a' : '#6f7f90';
}

export function mapOption(n: Network, lang: Lang, width: number, scene?: Scene): echarts.EChartsCoreOption {
  const z = mapSizes(width);
  const regions = n.zones.features.map((f) => {
    const s = ZONE_STYLE[f.properties.kind] ?? ZONE_STYLE.shore_watch!;
    return { name: f.properties.id, itemStyle: { ...s }, emphasis: { itemStyle: { ...s }, label: { show: false } } };
  });
  const zoneName = new Map(n.zones.features.map((f) => [f.properties.id, f.properties]));
  const meanLat = n.bbox ? (n.bbox[1] + n.bbox[3]) / 2 : 26.5;
  return {
    animation: false,
    tooltip: {
      trigger: 'item',
      confine: true,
      formatter: (p: { seriesId?: string; componentType?: string; name?: string; data?: { station?: Station; video?: VideoPoint } }) => {
        if (p.componentType === 'geo') {
          const z0 = zoneName.get(p.name ?? '');
          return z0 ? `${nameOf(z0 as { name_zh: string; name_en: string }, lang)}` : '';
        }
        const st = p.data?.station;
        if (st) {
          const rows = st.latest
            .filter((l) => l.data_kind !== 'realtime' || !st.latest.some((o) => o.parameter === l.parameter && o.data_kind === 'hourly'))
            .slice(0, 12)
            .map((l) => {
              const par = n.parameters.find((q) => q.code === l.parameter);
              const flag = l.flag && l.flag !== 'N' ? ` <i>(${l.flag} ${flagLabel(l.flag, lang)})</i>` : '';
              return `${nameOf(par, lang) || l.parameter}: ${l.value ?? '—'} ${par?.unit ?? ''}${flag}`;
            });
          return [`<b>${st.code} ${nameOf(st, lang)}</b>`, `${t('class', lang)}: ${classLabel(st.class, lang)} · ${t('target', lang)} ${classLabel(st.target_class, lang)}`, ...rows].join('<br>');
        }
        const v = p.data?.video;
        if (v) {
          const status = v.online === null ? t('status_unknown', lang) : v.online ? t('online', lang) : t('offline', lang);
          return [`<b>${v.id} ${nameOf(v, lang)}</b>`, `${v.kind === 'ptz' ? t('camera_ptz', lang) : t('camera_fixed', lang)} · ${status}`, ...cameraLines(v, lang)].join('<br>');
        }
        return '';
      },
    },
    geo: {
      map: MAP_NAME,
      roam: true,
      // Degrees of longitude are shorter than degrees of latitude away from the equator.
      aspectScale: Math.cos((meanLat * Math.PI) / 180),
      layoutCenter: ['50%', '50%'],
      layoutSize: '96%',
      itemStyle: { areaColor: '#cfe8f6', borderColor: '#3a7fb8' },
      emphasis: { disabled: true },
      select: { disabled: true },
      label: { show: false },
      regions,
      tooltip: { show: true },
    },
    series: [
      sceneSeries(scene),
      {
        id: 'video',
        name: t('video_points', lang),
        type: 'scatter',
        coordinateSystem: 'geo',
        symbol: 'triangle',
        symbolSize: z.video,
        z: 3,
        data: n.video_points.map((v) => ({ name: v.id, value: [v.lon, v.lat], video: v, itemStyle: { color: videoColour(v), borderColor: '#fff', borderWidth: 0.8 } })),
      },
      {
        id: 'stations',
        name: t('stations', lang),
        type: 'scatter',
        coordinateSystem: 'geo',
        z: 5,
        data: n.stations.map((s) => {
          const intake = s.kind === 'intake';
          const offline = s.status !== null && !s.status.online;
          return {
            name: s.code,
            value: [s.lon, s.lat],
            station: s,
            symbol: intake ? 'diamond' : s.kind === 'river' ? 'rect' : 'circle',
            symbolSize: intake ? z.intake : z.station,
            itemStyle: {
              color: classColour(s.class),
              borderColor: offline ? '#777' : '#1d2733',
              borderWidth: intake ? 2.5 : 1.5,
              borderType: offline ? 'dashed' : 'solid',
              opacity: offline ? 0.6 : 1,
            },
            label: {
              show: true,
              position: intake ? 'right' : 'right',
              formatter: stationLabel(s, lang),
              fontSize: intake ? z.font + 1 : z.font,
              fontWeight: intake ? 'bold' : 'normal',
              color: '#1d2733',
              backgroundColor: intake ? 'rgba(255,255,255,0.85)' : 'transparent',
              padding: intake ? [2, 4] : 0,
              borderRadius: 3,
            },
          };
        }),
      },
    ],
  };
}

export function mountMap(el: HTMLElement, n: Network, lang: Lang, onStation: (code: string) => void, onRendered?: (c: ECharts) => void, scene?: Scene): ECharts {
  echarts.registerMap(MAP_NAME, zonesForEcharts(n) as never);
  const chart = echarts.init(el, undefined, { renderer: 'canvas' });
  // Registered before setOption: the first 'finished' comes during it.
  if (onRendered) chart.on('finished', () => onRendered(chart));
  chart.setOption(mapOption(n, lang, el.clientWidth, scene));
  chart.on('click', (p) => {
    const d = p.data as { station?: Station; video?: VideoPoint } | undefined;
    if (d?.station) onStation(d.station.code);
    else if (d?.video) openCameraPanel(d.video.id);
  });
  return chart;
}
