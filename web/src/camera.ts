// The camera panel (a video point's GB/T 28181 health, its recent alarms with snapshots, live
// view) and the intrusion pop-up. Opened from the map, the video-point list or a pop-up.
import { ApiError, playVideo, snapshotOf, stopVideo, type Alert, type VideoPoint } from './api';
import { esc } from './dom';
import { formatTime } from './format';
import { nameOf, t } from './i18n';
import { loadNetwork, on, sortAlerts, state } from './store';
import { alertMessage, safeT } from './pages/common';

/** Camera facts of `/api/v1/network` `video_points[].camera` (docs/video.md "Health"). */
type Camera = Record<string, unknown>;

let closePanel: (() => void) | null = null;

function field(cam: Camera | null, k: string): string {
  const v = cam?.[k];
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? t('yes') : t('no');
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return formatTime(v);
  return String(v);
}

function stateText(v: VideoPoint): string {
  return v.online === null || v.online === undefined ? t('status_unknown') : v.online ? t('online') : t('offline');
}

function alarmItem(a: Alert): string {
  const snap = snapshotOf(a);
  return `<li class="alarm sev-${esc(a.severity)}" data-alert="${a.id}">
    <div><b>${esc(safeT(`rule_${a.rule}`) ?? a.rule)}</b> · ${esc(safeT(`state_${a.state}`) ?? a.state)} · ${esc(formatTime(a.updated_at ?? a.created_at))}</div>
    <div class="msg">${esc(alertMessage(a))}</div>
    ${snap ? `<a href="${esc(snap)}" target="_blank" rel="noopener"><img class="snapshot" data-testid="panel-snapshot" src="${esc(snap)}" alt="${esc(t('snapshot'))}"></a>` : `<div class="muted">${esc(t('snapshot_none'))}</div>`}
  </li>`;
}

/** Opens the panel of video point `id` (replacing one already open). */
export function openCameraPanel(id: string): void {
  closePanel?.();
  const el = document.createElement('aside');
  el.className = 'camera-panel';
  el.setAttribute('role', 'dialog');
  el.dataset.testid = 'camera-panel';
  el.dataset.point = id;
  document.body.appendChild(el);
  // The result line of the last play/stop (HTML built from escaped parts) and whether a stream runs.
  let playing = '';
  let streaming = false;
  const draw = () => {
    const v = state.network?.video_points.find((p) => p.id === id);
    if (!v) {
      el.innerHTML = `<button class="close" data-testid="camera-close" aria-label="${esc(t('close'))}">×</button><p>${esc(id)}</p>`;
    } else {
      const cam = (v.camera ?? null) as Camera | null;
      const alarms = sortAlerts(state.alerts.filter((a) => a.source === id)).slice(0, 10);
      const rows: [string, string][] = [
        [t('state'), stateText(v)],
        [t('last_keepalive'), field(cam, 'last_keepalive')],
        [t('registered'), `${field(cam, 'registered')} · ${field(cam, 'registered_at')}`],
        [t('transport'), `${field(cam, 'transport')} · ${t('expires')} ${field(cam, 'expires_s')} s`],
        [t('armed'), field(cam, 'armed')],
        [t('firmware'), `${field(cam, 'manufacturer')} ${field(cam, 'model')} / ${field(cam, 'firmware')}`],
        [t('clock_drift'), typeof cam?.clock_drift_s === 'number' ? `${cam.clock_drift_s} s` : '—'],
        ['GB/T 28181', v.device_id ?? '—'],
      ];
      el.innerHTML = `
        <button class="close" data-testid="camera-close" aria-label="${esc(t('close'))}">×</button>
        <h2>${esc(v.id)} ${esc(nameOf(v))}</h2>
        <table class="kv">${rows.map(([k, val]) => `<tr><th>${esc(k)}</th><td>${esc(val)}</td></tr>`).join('')}</table>
        <div class="play">
          <button data-testid="camera-play">${esc(t('play_live'))}</button>
          ${streaming ? `<button data-testid="camera-stop">${esc(t('stop_live'))}</button>` : ''}
          <div class="play-result" data-testid="play-result">${playing}</div>
        </div>
        <h3>${esc(t('recent_alarms'))}</h3>
        ${alarms.length ? `<ul class="alarms">${alarms.map(alarmItem).join('')}</ul>` : `<p class="muted">${esc(t('alerts_none'))}</p>`}`;
    }
    el.querySelector<HTMLButtonElement>('[data-testid="camera-close"]')!.onclick = () => closePanel?.();
    const play = el.querySelector<HTMLButtonElement>('[data-testid="camera-play"]');
    if (play)
      play.onclick = async () => {
        play.disabled = true;
        try {
          const p = await playVideo(id);
          const urls: [string, string][] = [
            ['HLS', p.urls.hls],
            ['HTTP-FLV', p.urls.http_flv],
            ['WebRTC', p.urls.webrtc],
          ];
          streaming = true;
          playing = `<ul class="urls">${urls.map(([k, u]) => `<li>${esc(k)}: <a href="${esc(u)}" target="_blank" rel="noopener">${esc(u)}</a></li>`).join('')}</ul>`;
        } catch (e) {
          const status = e instanceof ApiError ? e.status : 0;
          const text = status === 503 ? t('no_media_server') : status === 409 ? t('camera_not_online') : `${t('action_failed')}: ${(e as Error).message}`;
          playing = `<div class="error">${esc(text)}</div>`;
        }
        draw();
      };
    const stop = el.querySelector<HTMLButtonElement>('[data-testid="camera-stop"]');
    if (stop)
      stop.onclick = async () => {
        stop.disabled = true;
        try {
          await stopVideo(id);
          playing = '';
          streaming = false;
        } catch (e) {
          playing = `<div class="error">${esc(t('action_failed'))}: ${esc((e as Error).message)}</div>`;
        }
        draw();
      };
  };
  const offs = [on('alerts', draw), on('network', draw)];
  // The page's copy of the network may be minutes old: keepalives and device info move on.
  const refresh = () => loadNetwork().catch(() => undefined);
  void refresh();
  const timer = setInterval(refresh, 10000);
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') closePanel?.();
  };
  document.addEventListener('keydown', onKey);
  closePanel = () => {
    offs.forEach((f) => f());
    clearInterval(timer);
    document.removeEventListener('keydown', onKey);
    el.remove();
    closePanel = null;
  };
  draw();
}

/** Pop-ups open at once, by alert id (an update of the same alert — its snapshot arriving —
 *  refreshes its pop-up instead of opening another). */
const popups = new Map<number, HTMLElement>();
const MAX_POPUPS = 3;

/** An intrusion alert from the live feed: a pop-up with its snapshot until the operator closes it. */
export function intrusionPopup(a: Alert): void {
  if (a.rule !== 'intrusion') return;
  let el = popups.get(a.id);
  if (a.state === 'cleared') {
    el?.remove();
    popups.delete(a.id);
    return;
  }
  if (!el) {
    while (popups.size >= MAX_POPUPS) {
      const [oldest, node] = popups.entries().next().value as [number, HTMLElement];
      node.remove();
      popups.delete(oldest);
    }
    let box = document.getElementById('popups');
    if (!box) {
      box = document.createElement('div');
      box.id = 'popups';
      document.body.appendChild(box);
    }
    el = document.createElement('div');
    el.className = `intrusion-popup sev-${a.severity}`;
    el.setAttribute('role', 'alertdialog');
    el.dataset.testid = 'intrusion-popup';
    el.dataset.alert = String(a.id);
    box.appendChild(el);
    popups.set(a.id, el);
  }
  const snap = snapshotOf(a);
  const node = el;
  node.innerHTML = `
    <button class="close" data-testid="popup-close" aria-label="${esc(t('close'))}">×</button>
    <div class="title"><b>${esc(t('rule_intrusion'))}</b> · ${esc(a.source)} · ${esc(formatTime(a.created_at))}</div>
    <div class="msg">${esc(alertMessage(a))}</div>
    ${snap ? `<img class="snapshot" data-testid="popup-snapshot" src="${esc(snap)}" alt="${esc(t('snapshot'))}">` : `<div class="muted">${esc(t('snapshot_waiting'))}</div>`}
    <button data-testid="popup-open">${esc(t('open_camera'))}</button>`;
  node.querySelector<HTMLButtonElement>('[data-testid="popup-close"]')!.onclick = () => {
    node.remove();
    popups.delete(a.id);
  };
  node.querySelector<HTMLButtonElement>('[data-testid="popup-open"]')!.onclick = () => openCameraPanel(a.source);
}
