// Overview: the lake map with every station in its class colour, the intake with its Class Ⅱ
// target, video points by status; headline figures; station list; active alerts.
import { getAssessment, isWaterBody, type Network } from '../api';
import { CLASS_KEYS, gradeOfClass, GRADE_COLOURS, ROMAN, type GradeKey } from '../classes';
import { classChip, colourChip, esc } from '../dom';
import { drawnItems, echarts, type ECharts } from '../echarts';
import { percent } from '../format';
import { lang, nameOf, t } from '../i18n';
import { mapOption, mountMap, videoColour } from '../map';
import { bloomChartOption, getSceneDetail, sceneFigures, sceneSeries, sceneTimeline, type SceneDetail } from '../scenes';
import { activeAlerts, on, sortAlerts, state } from '../store';
import { alertRow, errorBox, network } from './common';

declare global {
  interface Window {
    /** Read by the e2e test: what the map really drew. */
    qingshuiMap?: { stations: number; videos: number; scene?: number };
    /** The scene the map shows (for the e2e check). */
    qingshuiScene?: number;
    /** Points drawn on the bloom-area chart (for the e2e check). */
    qingshuiBloom?: number;
  }
}

const GRADES: GradeKey[] = ['excellent', 'good', 'slightly_polluted', 'moderately_polluted', 'heavily_polluted'];
const GRADE_WORDS: Record<GradeKey, [string, string]> = {
  excellent: ['优', 'excellent'],
  good: ['良好', 'good'],
  slightly_polluted: ['轻度污染', 'slightly polluted'],
  moderately_polluted: ['中度污染', 'moderately polluted'],
  heavily_polluted: ['重度污染', 'heavily polluted'],
  no_data: ['未监测', 'no data'],
};

export function gradeWord(g: GradeKey, l = lang()): string {
  return GRADE_WORDS[g][l === 'zh' ? 0 : 1];
}

function kpis(n: Network, lake: { html: string }): string {
  const withStatus = n.stations.filter((s) => s.status !== null);
  const online = withStatus.filter((s) => s.status!.online).length;
  const classed = n.stations.filter((s) => s.meets_target !== null);
  const meeting = classed.filter((s) => s.meets_target).length;
  const vids = n.video_points.filter((v) => v.online !== null);
  const vOnline = vids.filter((v) => v.online).length;
  const nAlerts = activeAlerts(state.alerts).length;
  return `
    <div class="kpi" data-testid="kpi-reporting"><div class="kpi-label">${esc(t('stations_reporting'))}</div><div class="kpi-value">${online}<small>/${withStatus.length}</small></div></div>
    <div class="kpi" data-testid="kpi-target"><div class="kpi-label">${esc(t('share_meeting_target'))}</div><div class="kpi-value">${percent(meeting, classed.length)}<small>${meeting}/${classed.length}</small></div></div>
    <div class="kpi kpi-wide" data-testid="kpi-lake">${lake.html}</div>
    <div class="kpi ${nAlerts ? 'kpi-alert' : ''}" data-testid="kpi-alerts"><div class="kpi-label">${esc(t('active_alerts'))}</div><div class="kpi-value"><a href="#/alerts">${state.alertsError ? '—' : nAlerts}</a></div></div>
    <div class="kpi" data-testid="kpi-video"><div class="kpi-label">${esc(t('video_online'))}</div><div class="kpi-value">${vids.length ? `${vOnline}<small>/${vids.length}</small>` : `<small>${esc(t('status_unknown'))}</small>`}</div></div>`;
}

function legend(n: Network): string {
  const l = lang();
  const classes = CLASS_KEYS.map((c) => `<span class="lg">${classChip(c, l)}<em>${esc(gradeWord(gradeOfClass(c)))}</em></span>`).join('');
  const zones = n.zones.features
    .map((f) => `<span class="lg zone zone-${esc(f.properties.kind)}"><i></i>${esc(nameOf(f.properties))}</span>`)
    .join('');
  const shapes = `<span class="lg">● ${esc(t('kind_lake'))}</span><span class="lg">■ ${esc(t('kind_river'))}</span><span class="lg">◆ ${esc(t('kind_intake'))}</span>
    <span class="lg"><b style="color:${videoColour({ online: true } as never)}">▲</b> ${esc(t('video_points'))} ${esc(t('online'))}</span><span class="lg"><b style="color:${videoColour({ online: false } as never)}">▲</b> ${esc(t('offline'))}</span>${
      n.video_points.some((v) => v.online === null) ? `<span class="lg"><b style="color:${videoColour({ online: null } as never)}">▲</b> ${esc(t('status_unknown'))}</span>` : ''
    }`;
  return `<div class="legend"><div><strong>${esc(t('legend_title'))}</strong> ${classes}</div><div>${shapes} ${zones}</div>${
    n.schematic ? `<div class="schematic">⚠ ${esc(t('schematic_note'))}</div>` : ''
  }</div>`;
}

function stationList(n: Network): string {
  const l = lang();
  const rows = n.stations
    .map((s) => {
      const verdict = s.meets_target === null ? '' : s.meets_target ? `<span class="ok">✔</span>` : `<span class="bad">✘</span>`;
      const status = s.status === null ? '' : `<span class="dot ${s.status.online ? 'on' : 'off'}" title="${esc(s.status.online ? t('online') : t('offline'))}"></span>`;
      return `<tr data-station="${esc(s.code)}" tabindex="0"><td>${status}${esc(s.code)}</td><td>${esc(nameOf(s))}</td><td>${classChip(s.class, l)}</td><td>${esc(t('target'))} ${esc(ROMAN[s.target_class] ?? s.target_class)} ${verdict}</td></tr>`;
    })
    .join('');
  return `<table class="list stations"><tbody>${rows}</tbody></table>`;
}

function alertsPanel(): string {
  if (state.alertsError) return `<div class="muted">${esc(t('load_failed'))}: ${esc(state.alertsError)}</div>`;
  const list = sortAlerts(activeAlerts(state.alerts)).slice(0, 8);
  if (!list.length) return `<div class="muted">${esc(t('alerts_none'))}</div>`;
  return `<table class="list alerts"><tbody>${list.map((a) => alertRow(a, false)).join('')}</tbody></table>`;
}

export function renderOverview(root: HTMLElement): () => void {
  let chart: ECharts | null = null;
  let sceneId: number | undefined;
  let bloom: ECharts | null = null;
  let sceneDocs: SceneDetail[] = [];
  let disposed = false;
  const offs: (() => void)[] = [];
  let lakeHtml = `<div class="kpi-label">${esc(t('lake_class'))}</div><div class="kpi-value"><small>${esc(t('loading'))}</small></div>`;

  const draw = (n: Network) => {
    if (disposed) return;
    root.innerHTML = `
      <section class="kpis">${kpis(n, { html: lakeHtml })}</section>
      <section class="overview-grid">
        <div class="panel map-panel"><h2>${esc(nameOf(n))}</h2><div id="scene-timeline"></div><div id="map" class="map" data-testid="map"></div>${legend(n)}</div>
        <div class="side">
          <div class="panel"><h2>${esc(t('station_list'))}</h2>${stationList(n)}</div>
          <div class="panel bloom-panel"><h2>${esc(t('bloom_area'))} · ${esc(t('scenes'))}</h2><div id="bloom-chart" class="bloom-chart" data-testid="bloom-chart"></div><div id="scene-figures" class="scene-figures"></div></div>
          <div class="panel"><h2><a href="#/alerts">${esc(t('active_alerts'))}</a></h2>${alertsPanel()}</div>
        </div>
      </section>`;
    const el = root.querySelector<HTMLElement>('#map')!;
    chart?.dispose();
    const report = (c: ECharts) => {
      if (!c.isDisposed()) window.qingshuiMap = { stations: drawnItems(c, 'stations'), videos: drawnItems(c, 'video'), scene: drawnItems(c, 'scene') };
    };
    // The newest scene is shown first; the timeline steps through the others.
    const scenes = n.scenes ?? [];
    if (sceneId === undefined || !scenes.some((s) => s.id === sceneId)) sceneId = scenes[0]?.id;
    chart = mountMap(el, n, lang(), (code) => (location.hash = `#/station/${encodeURIComponent(code)}`), report, scenes.find((s) => s.id === sceneId));
    const timeline = root.querySelector<HTMLElement>('#scene-timeline')!;
    const drawTimeline = () => {
      timeline.innerHTML = sceneTimeline(scenes, sceneId, lang());
      timeline.querySelectorAll<HTMLButtonElement>('button[data-scene]').forEach((b) => {
        b.onclick = () => {
          sceneId = Number(b.dataset.scene);
          chart?.setOption({ series: [sceneSeries(scenes.find((s) => s.id === sceneId))] });
          drawTimeline();
          drawFigures(n);
          window.qingshuiScene = sceneId;
        };
      });
    };
    drawTimeline();
    window.qingshuiScene = sceneId;
    drawBloom(n);
    root.querySelectorAll<HTMLElement>('tr[data-station]').forEach((tr) => {
      const go = () => (location.hash = `#/station/${encodeURIComponent(tr.dataset.station!)}`);
      tr.onclick = go;
      tr.onkeydown = (e) => e.key === 'Enter' && go();
    });
  };

  // The selected scene's figures beside the stations' chl-a (from the documents drawBloom read).
  const drawFigures = (n: Network) => {
    const el = root.querySelector<HTMLElement>('#scene-figures');
    const doc = sceneDocs.find((d) => d.id === sceneId);
    if (!el) return;
    const station = (code: string) => nameOf(n.stations.find((s) => s.code === code)) || code;
    el.innerHTML = doc ? sceneFigures(doc, n.basins.map((b) => ({ id: b.id, name: nameOf(b) })), station, lang()) : '';
  };

  // Bloom area per basin over the listed scenes (their documents carry the basin figures).
  const drawBloom = (n: Network) => {
    const el = root.querySelector<HTMLElement>('#bloom-chart');
    const scenes = n.scenes ?? [];
    if (!el || scenes.length === 0) return;
    Promise.all(scenes.map((s) => getSceneDetail(s.id)))
      .then((docs) => {
        if (disposed || !el.isConnected) return;
        sceneDocs = docs;
        drawFigures(n);
        bloom?.dispose();
        bloom = echarts.init(el, undefined, { renderer: 'canvas' });
        bloom.on('finished', () => {
          if (bloom && !bloom.isDisposed()) window.qingshuiBloom = n.basins.reduce((k, b) => k + drawnItems(bloom!, `bloom-${b.id}`), 0);
        });
        bloom.setOption(bloomChartOption(docs, n.basins.map((b) => ({ id: b.id, name: nameOf(b) })), lang()));
      })
      .catch(() => {
        /* the map and the timeline stay; the chart is an extra */
      });
  };

  const onResize = () => {
    if (chart && state.network) {
      chart.resize();
      chart.setOption(mapOption(state.network, lang(), chart.getWidth(), state.network.scenes?.find((s) => s.id === sceneId)), { replaceMerge: ['series'] });
    }
  };
  window.addEventListener('resize', onResize);

  const load = () =>
    network()
      .then((n) => {
        draw(n);
        // The lake's class and TLI for the current month (Beijing time), from the national method.
        getAssessment('waterbody:lake', 'month')
          .then((a) => {
            const l = lang();
            const s = isWaterBody(a) ? a.combined : a;
            const grade = (a.grade as GradeKey) ?? 'no_data';
            const tli = s?.trophic && s.trophic.status === 'computed' ? s.trophic : null;
            lakeHtml = `<div class="kpi-label">${esc(t('lake_class'))} · ${esc(t('tli'))}</div>
              <div class="kpi-value">${colourChip(a.colour || GRADE_COLOURS[grade], l === 'zh' ? a.grade_zh : a.grade_en)} ${classChip(a.class, l)}
              ${tli ? `<span class="tli" style="border-color:${esc(tli.colour)}">TLI ${tli.tli.toFixed(2)} ${esc(l === 'zh' ? tli.state_zh : tli.state_en)}</span>` : ''}</div>`;
            const box = root.querySelector('[data-testid="kpi-lake"]');
            if (box) box.innerHTML = lakeHtml;
          })
          .catch((e) => {
            lakeHtml = `<div class="kpi-label">${esc(t('lake_class'))}</div><div class="kpi-value"><small>${esc(t('load_failed'))}: ${esc((e as Error).message)}</small></div>`;
            const box = root.querySelector('[data-testid="kpi-lake"]');
            if (box) box.innerHTML = lakeHtml;
          });
      })
      .catch((e) => errorBox(root, e, load));
  load();

  offs.push(on('network', (n) => draw(n)));
  offs.push(
    on('alerts', () => {
      const n = state.network;
      if (!n) return;
      const k = root.querySelector('.kpis');
      if (k) k.innerHTML = kpis(n, { html: lakeHtml });
      const p = root.querySelector('.side .panel:last-child');
      if (p) p.innerHTML = `<h2><a href="#/alerts">${esc(t('active_alerts'))}</a></h2>${alertsPanel()}`;
    }),
  );
  return () => {
    disposed = true;
    offs.forEach((f) => f());
    window.removeEventListener('resize', onResize);
    chart?.dispose();
    bloom?.dispose();
  };
}

// Re-exported for the legend test: the grade words and colours of the five grades.
export const GRADE_LEGEND = GRADES.map((g) => ({ grade: g, colour: GRADE_COLOURS[g], zh: GRADE_WORDS[g][0], en: GRADE_WORDS[g][1] }));
