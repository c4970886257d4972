// Helpers shared by the pages: loading the network once, error boxes, alert rows.
import type { Alert, Network } from '../api';
import { esc } from '../dom';
import { formatTime } from '../format';
import { lang, t, zh, type Key } from '../i18n';
import { loadNetwork, state } from '../store';

export async function network(): Promise<Network> {
  return state.network ?? loadNetwork();
}

export function errorBox(root: HTMLElement, e: unknown, retry: () => void): void {
  root.innerHTML = `<div class="error" role="alert">${esc(t('load_failed'))}: ${esc((e as Error)?.message ?? e)} <button>${esc(t('retry'))}</button></div>`;
  root.querySelector('button')!.onclick = retry;
}

/** An alert's message in the reader's language (the server renders both from one template). */
export function alertMessage(a: Alert): string {
  return (lang() === 'zh' ? a.message_zh : a.message_en) || a.message;
}

export function alertRow(a: Alert, withActions: boolean): string {
  const rule = `rule_${a.rule}`;
  const actions = withActions
    ? `<td class="actions">${a.state === 'active' ? `<button data-act="ack" data-id="${a.id}">${esc(t('acknowledge'))}</button>` : ''}${
        a.state !== 'cleared' ? `<button data-act="clear" data-id="${a.id}">${esc(t('clear'))}</button>` : ''
      }</td>`
    : '';
  return `<tr class="alert sev-${esc(a.severity)} st-${esc(a.state)}" data-alert="${a.id}">
    <td><span class="sev">${esc(safeT(`severity_${a.severity}`) ?? a.severity)}</span></td>
    <td>${esc(formatTime(a.updated_at ?? a.created_at))}</td>
    <td>${esc(a.station ?? a.source)}</td>
    <td>${esc(safeT(rule) ?? a.rule)}</td>
    <td class="msg">${esc(alertMessage(a))}</td>
    <td>${esc(safeT(`state_${a.state}`) ?? a.state)}</td>${actions}</tr>`;
}

/** A dictionary lookup for values that come from the API (an unknown rule must not crash). */
export function safeT(k: string): string | undefined {
  return k in zh ? t(k as Key) : undefined;
}
