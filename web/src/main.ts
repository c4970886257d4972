// The dashboard shell: header (navigation, live status, alert badge, language switch), a hash
// router (#/overview, #/station/W01, #/assessment, #/alerts), live events and periodic refresh.
import './style.css';
import { t, initLang, lang, setLang, onLangChange } from './i18n';
import { connectLive } from './live';
import { applyObservation, activeAlerts, emit, loadAlerts, loadNetwork, on, state, upsertAlert } from './store';
import { esc } from './dom';
import { renderOverview } from './pages/overview';
import { renderStation } from './pages/station';
import { renderAssessment } from './pages/assessment';
import { renderAlerts } from './pages/alerts';

export type Cleanup = () => void;
export type PageRender = (root: HTMLElement, arg: string | undefined) => Cleanup;

const PAGES: Record<string, PageRender> = {
  overview: renderOverview,
  station: renderStation,
  assessment: renderAssessment,
  alerts: renderAlerts,
};

const app = document.getElementById('app')!;
let cleanup: Cleanup | null = null;

function route(): { page: string; arg: string | undefined } {
  const [, page = 'overview', arg] = location.hash.replace(/^#/, '').split('/');
  return { page: page in PAGES ? page : 'overview', arg: arg ? decodeURIComponent(arg) : undefined };
}

function renderHeader(): void {
  const { page } = route();
  const n = activeAlerts(state.alerts).length;
  const nav = (['overview', 'station', 'assessment', 'alerts'] as const)
    .map((p) => `<a href="#/${p}" class="${p === page ? 'active' : ''}" data-nav="${p}">${esc(t(`nav_${p}`))}${p === 'alerts' && n ? ` <span class="badge" data-testid="alert-badge">${n}</span>` : ''}</a>`)
    .join('');
  const header = document.getElementById('header')!;
  header.innerHTML = `
    <div class="brand"><span class="logo">清水</span><span class="title">${esc(t('app_title'))}</span></div>
    <nav>${nav}</nav>
    <div class="header-right">
      <span class="live ${state.live ? 'on' : 'off'}" data-testid="live">${esc(state.live ? t('live_connected') : t('live_reconnecting'))}</span>
      <button class="lang" data-testid="lang-switch" title="${esc(t('lang_switch_title'))}">${esc(t('lang_switch'))}</button>
    </div>`;
  header.querySelector<HTMLButtonElement>('.lang')!.onclick = () => setLang(lang() === 'zh' ? 'en' : 'zh');
}

function renderPage(): void {
  cleanup?.();
  cleanup = null;
  const { page, arg } = route();
  document.title = t('app_title');
  renderHeader();
  app.innerHTML = '';
  app.className = `page page-${page}`;
  cleanup = PAGES[page]!(app, arg);
}

function toast(text: string, severity: string): void {
  const box = document.getElementById('toasts')!;
  const el = document.createElement('div');
  el.className = `toast sev-${severity}`;
  el.textContent = text;
  el.onclick = () => (location.hash = '#/alerts');
  box.appendChild(el);
  setTimeout(() => el.remove(), 12000);
}

async function boot(): Promise<void> {
  initLang();
  document.body.insertAdjacentHTML('afterbegin', '<header id="header"></header><div id="toasts" aria-live="assertive"></div>');
  onLangChange(renderPage);
  window.addEventListener('hashchange', renderPage);
  on('live', renderHeader);
  on('alerts', renderHeader);

  // Live values: update the in-memory latest values at once; refresh the network (classes,
  // status) at most every 20 s, since a class needs the limits the server holds.
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  on('observation', (o) => {
    if (state.network) applyObservation(state.network, o);
    refreshTimer ??= setTimeout(() => {
      refreshTimer = null;
      loadNetwork().catch(() => undefined);
    }, 20000);
  });
  on('alert', (a) => {
    const isNew = !state.alerts.some((x) => x.id === a.id);
    state.alerts = upsertAlert(state.alerts, a);
    emit('alerts', state.alerts);
    if (isNew && a.state !== 'cleared') toast(`${t('new_alert')}: ${a.message}`, a.severity);
  });

  renderPage();
  connectLive();
  void loadAlerts();
  // A safety net for missed events (e.g. while reconnecting).
  setInterval(() => {
    void loadAlerts();
    loadNetwork().catch(() => undefined);
  }, 60000);
}

void boot();
