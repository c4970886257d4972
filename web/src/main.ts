// The dashboard shell: header (navigation, live status, alert badge, language switch), a hash
// router (#/overview, #/station/W01, #/assessment, #/alerts), live events and periodic refresh.
import './style.css';
import { t, initLang, lang, setLang, onLangChange } from './i18n';
import { connectLive } from './live';
import { applyObservation, activeAlerts, emit, loadAlerts, loadNetwork, on, state, upsertAlert } from './store';
import { esc } from './dom';
import { loadSession, renderAccount, session } from './account';
import { renderOverview } from './pages/overview';
import { renderStation } from './pages/station';
import { renderAssessment } from './pages/assessment';
import { renderAlerts } from './pages/alerts';
import { renderReview } from './pages/review';
import { renderAudit } from './pages/audit';
import { alertMessage } from './pages/common';
import { intrusionPopup } from './camera';

export type Cleanup = () => void;
export type PageRender = (root: HTMLElement, arg: string | undefined) => Cleanup;

const PAGES: Record<string, PageRender> = {
  overview: renderOverview,
  station: renderStation,
  assessment: renderAssessment,
  alerts: renderAlerts,
  review: renderReview,
  audit: renderAudit,
};

const app = document.getElementById('app')!;
let cleanup: Cleanup | null = null;

function route(): { page: string; arg: string | undefined } {
  const [, page = 'overview', arg] = location.hash.replace(/^#/, '').split('/');
  return { page: page in PAGES ? page : 'overview', arg: arg ? decodeURIComponent(arg) : undefined };
}

/** The page and language the header was last built for: only they change its buttons. */
let headerBuiltFor = '';

function renderHeader(): void {
  const { page } = route();
  const header = document.getElementById('header')!;
  const key = `${lang()}|${page}`;
  // Alerts and live events arrive many times a second in a burst: they update the badge and the
  // live indicator in place, so the buttons under the user's pointer are never replaced.
  if (key !== headerBuiltFor) {
    headerBuiltFor = key;
    // The audit trail is for admins only (the server refuses others anyway).
    const pages = ['overview', 'station', 'assessment', 'alerts', 'review', ...(session?.role === 'admin' ? (['audit'] as const) : [])] as const;
    const nav = pages
      .map((p) => `<a href="#/${p}" class="${p === page ? 'active' : ''}" data-nav="${p}">${esc(t(`nav_${p}`))}${p === 'alerts' ? ' <span class="badge" data-testid="alert-badge"></span>' : ''}</a>`)
      .join('');
    header.innerHTML = `
    <div class="brand"><span class="logo">清水</span><span class="title">${esc(t('app_title'))}</span></div>
    <nav>${nav}</nav>
    <div class="header-right">
      <span class="live" data-testid="live"></span>
      <span class="account" id="account"></span>
      <button class="lang" data-testid="lang-switch" title="${esc(t('lang_switch_title'))}">${esc(t('lang_switch'))}</button>
    </div>`;
    header.querySelector<HTMLButtonElement>('.lang')!.onclick = () => setLang(lang() === 'zh' ? 'en' : 'zh');
    renderAccount(header.querySelector<HTMLElement>('#account')!, () => {
      headerBuiltFor = '';
      renderPage();
    });
  }
  const n = activeAlerts(state.alerts).length;
  const badge = header.querySelector<HTMLElement>('[data-testid="alert-badge"]')!;
  badge.textContent = n ? String(n) : '';
  badge.hidden = n === 0;
  const live = header.querySelector<HTMLElement>('[data-testid="live"]')!;
  live.className = `live ${state.live ? 'on' : 'off'}`;
  live.textContent = state.live ? t('live_connected') : t('live_reconnecting');
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

/** Toasts shown at once; more would cover the page (a burst of alerts at start-up or during a
 * bloom). The oldest make room and are counted in one "N more" line that opens the alert list. */
const MAX_TOASTS = 3;
let hiddenToasts = 0;

function toast(text: string, severity: string): void {
  const box = document.getElementById('toasts')!;
  const el = document.createElement('div');
  el.className = `toast sev-${severity}`;
  el.textContent = text;
  el.onclick = () => (location.hash = '#/alerts');
  const shown = () => Array.from(box.querySelectorAll<HTMLElement>('.toast:not(.toast-more)'));
  while (shown().length >= MAX_TOASTS) {
    shown()[0]!.remove();
    hiddenToasts += 1;
  }
  box.appendChild(el);
  let more = box.querySelector<HTMLElement>('.toast-more');
  if (hiddenToasts > 0) {
    if (!more) {
      more = document.createElement('div');
      more.className = 'toast toast-more';
      more.onclick = () => (location.hash = '#/alerts');
    }
    more.textContent = `+${hiddenToasts} ${t('more_new_alerts')}`;
    box.prepend(more);
  }
  setTimeout(() => {
    el.remove();
    if (!box.querySelector('.toast:not(.toast-more)')) {
      hiddenToasts = 0;
      box.querySelector('.toast-more')?.remove();
    }
  }, 12000);
}

async function boot(): Promise<void> {
  initLang();
  await loadSession();
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
    // An intrusion gets its own pop-up (with the snapshot, which arrives as an update).
    if (a.rule === 'intrusion') intrusionPopup(a);
    else if (isNew && a.state !== 'cleared') toast(`${t('new_alert')}: ${alertMessage(a)}`, a.severity);
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
