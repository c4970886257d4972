// Who is logged in, in the header: the person's name and role with a log-out button, or a
// log-in button opening a small form. The session is a cookie the browser keeps (HttpOnly);
// api.ts sends its CSRF token on every change, so acknowledgements carry the person's name.

import { getSession, login, logout, type Session } from './api';
import { esc } from './dom';
import { t, type Key } from './i18n';

export let session: Session | null = null;

function roleLabel(role: string | null | undefined): string {
  return role ? t(`role_${role}` as Key) : '';
}

/** Draws the account widget into `el`; `changed` runs after a login or logout. */
export function renderAccount(el: HTMLElement, changed: () => void): void {
  if (session?.authenticated && session.name) {
    el.innerHTML = `<span class="who" data-testid="who">${esc(session.display_name || session.name)} · ${esc(roleLabel(session.role))}</span>
      <button type="button" class="logout" data-testid="logout">${esc(t('logout'))}</button>`;
    el.querySelector<HTMLButtonElement>('.logout')!.onclick = async () => {
      await logout().catch(() => undefined);
      session = await getSession().catch(() => null);
      changed();
    };
    return;
  }
  el.innerHTML = `<button type="button" class="login" data-testid="login">${esc(t('login'))}</button>`;
  el.querySelector<HTMLButtonElement>('.login')!.onclick = () => openLogin(changed);
}

function openLogin(changed: () => void): void {
  document.getElementById('login-dialog')?.remove();
  const d = document.createElement('dialog');
  d.id = 'login-dialog';
  d.innerHTML = `<form method="dialog" class="login-form" data-testid="login-form">
      <h2>${esc(t('login'))}</h2>
      <label>${esc(t('login_name'))}<input name="name" autocomplete="username" required></label>
      <label>${esc(t('login_password'))}<input name="password" type="password" autocomplete="current-password" required></label>
      <div class="error" data-testid="login-error" role="alert"></div>
      <div class="buttons"><button type="submit" value="ok">${esc(t('login'))}</button><button type="button" value="cancel" class="cancel">✕</button></div>
    </form>`;
  document.body.appendChild(d);
  const form = d.querySelector<HTMLFormElement>('form')!;
  d.querySelector<HTMLButtonElement>('.cancel')!.onclick = () => d.remove();
  form.onsubmit = async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    try {
      session = await login(String(data.get('name') ?? ''), String(data.get('password') ?? ''));
      d.remove();
      changed();
    } catch (err) {
      d.querySelector<HTMLElement>('.error')!.textContent = `${t('login_failed')}: ${(err as Error).message}`;
    }
  };
  d.showModal();
}

/** Reads the current session once at start (a reload keeps the login). */
export async function loadSession(): Promise<void> {
  session = await getSession().catch(() => null);
}
