// Station: latest values with each parameter's class and data flag, a time-series chart with the
// class bands of the parameter and water type, range day/week/month/year (interval=auto), live
// values appended, export of the shown data to CSV and Excel.
import { getSeries, type Network, type Series, type Station } from '../api';
import { appendPoint, exportRows, seriesOption, chartData } from '../charts';
import { classChip, esc } from '../dom';
import { echarts, type ECharts } from '../echarts';
import { downloadCsv, downloadXlsx } from '../export';
import { chartWindow, formatInterval, formatTime, formatValue, toDate, type RangeKey } from '../format';
import { flagLabel, lang, nameOf, t, type Key } from '../i18n';
import { on, state } from '../store';
import { errorBox, network } from './common';

declare global {
  interface Window {
    /** Read by the e2e test: points in the chart now shown. */
    qingshuiChart?: { datastream: number; points: number };
  }
}

const RANGES: RangeKey[] = ['day', 'week', 'month', 'year'];
/** A datastream as `/api/v1/network` serves it: `speaks` marks the one the server's rule
 * (hourly, then manual, then real-time) picks for its parameter, and the server lists that one
 * first among the parameter's datastreams. */
type ServedDatastream = Station['datastreams'][number] & { speaks?: boolean };

/** The datastream that speaks for a parameter, as the server chose it. */
function speakingDatastream(st: Station, parameter: string): number | null {
  const ds: ServedDatastream[] = st.datastreams.filter((d) => d.parameter === parameter);
  return (ds.find((d) => d.speaks) ?? ds[0])?.id ?? null;
}

/** The datastream a chart shows: real-time for the day view of probes, else the speaking one. */
export function pickDatastream(st: Station, parameter: string, range: RangeKey): number | null {
  if (range === 'day') {
    const rt = st.datastreams.find((d) => d.parameter === parameter && d.data_kind === 'realtime');
    if (rt) return rt.id;
  }
  return speakingDatastream(st, parameter);
}

/** One row per parameter: the latest value of the datastream that speaks for it. */
export function latestRows(st: Station) {
  return st.latest.filter((l) => speakingDatastream(st, l.parameter) === l.datastream_id);
}

export function renderStation(root: HTMLElement, code: string | undefined): () => void {
  let chart: ECharts | null = null;
  let series: Series | null = null;
  let range: RangeKey = 'week';
  let parameter: string | null = null;
  let disposed = false;
  let req = 0;
  const offs: (() => void)[] = [];

  const headHtml = (n: Network, st: Station) => {
    const l = lang();
    const options = n.stations.map((s) => `<option value="${esc(s.code)}" ${s.code === st.code ? 'selected' : ''}>${esc(s.code)} ${esc(nameOf(s))}</option>`).join('');
    const status = st.status === null ? t('not_reporting') : st.status.online ? t('online') : t('offline');
    return `<select id="station-select" aria-label="${esc(t('choose_station'))}">${options}</select>
        <h1>${esc(st.code)} ${esc(nameOf(st))}</h1>
        <span>${esc(t(`kind_${st.kind}` as Key))}</span>
        <span>${esc(t('basin'))}: ${esc(nameOf(n.basins.find((b) => b.id === st.basin)) || st.basin)}</span>
        <span>${esc(t('class'))} ${classChip(st.class, l)}</span>
        <span>${esc(t('target'))} ${classChip(st.target_class, l)} ${st.meets_target === null ? '' : st.meets_target ? `<b class="ok">✔ ${esc(t('meets_target'))}</b>` : `<b class="bad">✘ ${esc(t('fails_target'))}</b>`}</span>
        <span><span class="dot ${st.status?.online ? 'on' : 'off'}"></span>${esc(status)}${st.status?.last_seen ? ` · ${esc(t('last_seen'))} ${esc(formatTime(st.status.last_seen))}` : ''}</span>`;
  };

  const latestHtml = (n: Network, st: Station) => {
    const l = lang();
    const order = (c: string) => n.parameters.findIndex((q) => q.code === c);
    const rows = latestRows(st)
      .sort((a, b) => order(a.parameter) - order(b.parameter))
      .map((lv) => {
        const p = n.parameters.find((q) => q.code === lv.parameter);
        const flagged = lv.flag && lv.flag !== 'N';
        return `<tr data-param="${esc(lv.parameter)}" class="${lv.parameter === parameter ? 'sel' : ''} ${flagged ? 'flagged' : ''}" tabindex="0">
          <td>${esc(nameOf(p) || lv.parameter)}</td>
          <td class="num">${esc(formatValue(lv.value, p?.decimals))}</td><td>${esc(p?.unit ?? '')}</td>
          <td>${lv.class ? classChip(lv.class, l) : '<span class="muted">—</span>'}</td>
          <td>${flagged ? `<span class="flag" title="${esc(flagLabel(lv.flag))}">${esc(lv.flag)} ${esc(flagLabel(lv.flag))}</span>` : `<span class="muted">${esc(lv.flag ?? '')}</span>`}</td>
          <td class="time">${esc(formatTime(lv.time))}</td></tr>`;
      })
      .join('');
    return `<h2>${esc(t('latest_values'))} <small>(${esc(t('beijing_time'))})</small></h2>
      <table class="list values"><thead><tr><th>${esc(t('parameter'))}</th><th>${esc(t('value'))}</th><th>${esc(t('unit'))}</th><th>${esc(t('class'))}</th><th>${esc(t('flag'))}</th><th>${esc(t('time'))}</th></tr></thead><tbody>${rows}</tbody></table>`;
  };

  const bind = (n: Network, scope: ParentNode) => {
    const sel = scope.querySelector<HTMLSelectElement>('#station-select');
    if (sel) sel.onchange = () => (location.hash = `#/station/${encodeURIComponent(sel.value)}`);
    const pick = (p: string) => {
      parameter = p;
      draw(n);
    };
    scope.querySelectorAll<HTMLElement>('[data-param]').forEach((el) => {
      el.onclick = () => pick(el.dataset.param!);
      el.onkeydown = (e) => e.key === 'Enter' && pick(el.dataset.param!);
    });
  };

  const draw = (n: Network) => {
    if (disposed) return;
    const st = n.stations.find((s) => s.code === code) ?? n.stations[0];
    if (!st) return;
    if (st.code !== code) history.replaceState(null, '', `#/station/${encodeURIComponent(st.code)}`);
    code = st.code;
    const params = [...new Set(st.datastreams.map((d) => d.parameter))].sort(
      (a, b) => n.parameters.findIndex((p) => p.code === a) - n.parameters.findIndex((p) => p.code === b),
    );
    if (parameter === null || !params.includes(parameter)) parameter = params.includes('tp') ? 'tp' : (params[0] ?? null);
    const chips = params
      .map((c) => `<button class="pchip ${c === parameter ? 'active' : ''}" data-param="${esc(c)}">${esc(nameOf(n.parameters.find((q) => q.code === c)) || c)}</button>`)
      .join('');
    root.innerHTML = `
      <section class="station-head panel">${headHtml(n, st)}</section>
      <section class="station-grid">
        <div class="panel latest">${latestHtml(n, st)}</div>
        <div class="panel chart-panel">
          <div class="pchips">${chips}</div>
          <div class="chart-tools">
            <span class="ranges">${RANGES.map((r) => `<button data-range="${r}" class="${r === range ? 'active' : ''}">${esc(t(`range_${r}`))}</button>`).join('')}</span>
            <span class="chart-info" id="chart-info"></span>
            <span class="exports"><button id="csv">${esc(t('export_csv'))}</button><button id="xlsx">${esc(t('export_xlsx'))}</button></span>
          </div>
          <div id="chart" class="chart" data-testid="series-chart"></div>
        </div>
      </section>`;
    bind(n, root);
    root.querySelectorAll<HTMLElement>('[data-range]').forEach((el) => {
      el.onclick = () => {
        range = el.dataset.range as RangeKey;
        draw(n);
      };
    });
    const name = () => nameOf(n.parameters.find((q) => q.code === parameter)) || parameter || '';
    const fileBase = () => `${st.code}_${parameter}_${range}`;
    root.querySelector<HTMLButtonElement>('#csv')!.onclick = () => series && downloadCsv(exportRows(series, lang(), name()), `${fileBase()}.csv`);
    root.querySelector<HTMLButtonElement>('#xlsx')!.onclick = () => {
      if (series) void downloadXlsx(exportRows(series, lang(), name()), `${fileBase()}.xlsx`, `${st.code} ${name()}`);
    };
    chart?.dispose();
    series = null;
    chart = echarts.init(root.querySelector<HTMLElement>('#chart')!);
    void loadChart(st);
  };

  const loadChart = async (st: Station) => {
    const id = parameter ? pickDatastream(st, parameter, range) : null;
    const info = root.querySelector('#chart-info');
    if (id === null || !chart) return;
    const mine = ++req;
    // The demo's simulated clock may run ahead of the wall clock: end at the newest value.
    const newest = Math.max(Date.now(), ...st.latest.map((l) => toDate(l.time)?.getTime() ?? 0));
    const win = chartWindow(range, new Date(newest));
    chart.showLoading({ text: t('loading') });
    try {
      const s = await getSeries(id, win.from, win.to, 'auto');
      if (mine !== req || !chart) return;
      series = s;
      if (state.network) renderSeries(state.network);
    } catch (e) {
      if (mine !== req || !chart) return;
      chart.hideLoading();
      if (info) info.textContent = `${t('load_failed')}: ${(e as Error).message}`;
    }
  };

  const renderSeries = (n: Network) => {
    if (!chart || !series) return;
    const p = n.parameters.find((q) => q.code === series!.parameter);
    chart.hideLoading();
    chart.setOption(
      seriesOption(series, lang(), { unit: series.unit || p?.unit || '', decimals: p?.decimals ?? 3, name: nameOf(p) || series.parameter, big: window.innerWidth >= 1800 }),
      { notMerge: true },
    );
    const d = chartData(series);
    window.qingshuiChart = { datastream: series.datastream_id, points: d.count };
    const info = root.querySelector('#chart-info');
    if (info) {
      info.textContent = d.count
        ? series.interval_s
          ? `${t('aggregated_every')} ${formatInterval(series.interval_s, lang())} · ${d.count} · ${d.flagged.length ? `▲ ${d.flagged.length}` : ''}`
          : `${t('raw_values')} · ${d.count}${d.flagged.length ? ` · ▲ ${d.flagged.length} ${t('flagged_values')}` : ''}`
        : t('no_data');
    }
  };

  const onResize = () => chart?.resize();
  window.addEventListener('resize', onResize);
  const load = () =>
    network()
      .then(draw)
      .catch((e) => errorBox(root, e, load));
  load();

  // Live: new values of the shown datastream are appended; the latest table follows the refresh.
  offs.push(
    on('observation', (o) => {
      if (series && o.datastream_id === series.datastream_id && appendPoint(series, o) && state.network) renderSeries(state.network);
      const tr = root.querySelector<HTMLElement>(`.values tr[data-param="${CSS.escape(o.parameter)}"]`);
      if (tr && o.station === code) tr.classList.add('updated');
    }),
  );
  offs.push(
    on('network', (n) => {
      // Refresh the head and the table only; the chart (and its zoom) stays as it is.
      const st = n.stations.find((x) => x.code === code);
      const head = root.querySelector('.station-head');
      const latest = root.querySelector('.latest');
      if (!st || !head || !latest) return;
      head.innerHTML = headHtml(n, st);
      latest.innerHTML = latestHtml(n, st);
      bind(n, head);
      bind(n, latest);
    }),
  );
  return () => {
    disposed = true;
    offs.forEach((f) => f());
    window.removeEventListener('resize', onResize);
    chart?.dispose();
  };
}
