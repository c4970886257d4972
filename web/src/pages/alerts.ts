// Alerts (GET /api/v1/alerts; acknowledge and clear by POST) and the video points with status.
import { alertAction } from '../api';
import { esc } from '../dom';
import { lang, nameOf, t } from '../i18n';
import { loadAlerts, on, sortAlerts, state } from '../store';
import { alertRow, errorBox, network } from './common';
import { openCameraPanel } from '../camera';

type Filter = 'open' | 'active' | 'acknowledged' | 'cleared' | 'all';

export function renderAlerts(root: HTMLElement): () => void {
  let filter: Filter = 'open';
  let message = '';
  const offs: (() => void)[] = [];

  const draw = () => {
    const n = state.network;
    const list = sortAlerts(
      state.alerts.filter((a) => (filter === 'all' ? true : filter === 'open' ? a.state !== 'cleared' : a.state === filter)),
    );
    const filters: [Filter, string][] = [
      ['open', `${t('state_active')} + ${t('state_acknowledged')}`],
      ['active', t('state_active')],
      ['acknowledged', t('state_acknowledged')],
      ['cleared', t('state_cleared')],
      ['all', t('filter_all')],
    ];
    const videos = n
      ? n.video_points
          .map(
            (v) => `<tr class="video-row" data-video="${esc(v.id)}" title="${esc(t('open_camera'))}"><td>${esc(v.id)}</td><td>${esc(nameOf(v))}</td><td>${esc(v.kind === 'ptz' ? t('camera_ptz') : t('camera_fixed'))}</td>
          <td>${esc(nameOf(n.zones.features.find((f) => f.properties.id === v.zone)?.properties) || v.zone)}</td>
          <td><span class="dot ${v.online === true ? 'on' : v.online === false ? 'off' : 'unknown'}"></span>${esc(v.online === null ? t('status_unknown') : v.online ? t('online') : t('offline'))}</td></tr>`,
          )
          .join('')
      : '';
    root.innerHTML = `
      <section class="alerts-grid">
        <div class="panel">
          <h2>${esc(t('alerts'))}</h2>
          <div class="filters">${filters.map(([k, label]) => `<button data-filter="${k}" class="${k === filter ? 'active' : ''}">${esc(label)}</button>`).join('')}</div>
          ${message ? `<div class="error">${esc(message)}</div>` : ''}
          ${state.alertsError ? `<div class="error">${esc(t('load_failed'))}: ${esc(state.alertsError)}</div>` : ''}
          ${
            list.length
              ? `<table class="list alerts"><thead><tr><th>${esc(t('severity'))}</th><th>${esc(t('time'))}</th><th>${esc(t('station'))}</th><th>${esc(t('rule'))}</th><th>${esc(t('message'))}</th><th>${esc(t('state'))}</th><th></th></tr></thead>
                 <tbody>${list.map((a) => alertRow(a, true)).join('')}</tbody></table>`
              : `<p class="muted">${esc(t('alerts_none'))}</p>`
          }
        </div>
        <div class="panel videos"><h2>${esc(t('video_points'))} (${n?.video_points.length ?? 0})</h2>
          <table class="list" data-testid="video-list"><thead><tr><th>ID</th><th>${esc(lang() === 'zh' ? '名称' : 'Name')}</th><th></th><th>${esc(t('zone'))}</th><th>${esc(t('state'))}</th></tr></thead><tbody>${videos}</tbody></table>
        </div>
      </section>`;
    root.querySelectorAll<HTMLElement>('tr[data-video]').forEach((r) => {
      r.onclick = () => openCameraPanel(r.dataset.video!);
    });
    root.querySelectorAll<HTMLElement>('[data-filter]').forEach((b) => {
      b.onclick = () => {
        filter = b.dataset.filter as Filter;
        draw();
      };
    });
    root.querySelectorAll<HTMLButtonElement>('button[data-act]').forEach((b) => {
      b.onclick = async () => {
        b.disabled = true;
        try {
          await alertAction(Number(b.dataset.id), b.dataset.act as 'ack' | 'clear');
          message = '';
        } catch (e) {
          message = `${t('action_failed')}: ${(e as Error).message}`;
        }
        await loadAlerts();
      };
    });
  };

  offs.push(on('alerts', draw));
  offs.push(on('network', draw));
  const load = () =>
    network()
      .then(draw)
      .catch((e) => errorBox(root, e, load));
  load();
  draw();
  return () => offs.forEach((f) => f());
}
