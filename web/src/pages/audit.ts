// The audit trail (admin): who changed what, when, from where — newest first, filtered by
// action prefix (alert., sta., review., user., token., session., network.) and principal.
import { getAudit, type AuditEntry } from '../api';
import { esc } from '../dom';
import { formatTime } from '../format';
import { t } from '../i18n';

export function renderAudit(root: HTMLElement): () => void {
  let action = '';
  let principal = '';
  let disposed = false;
  const draw = async () => {
    let rows: AuditEntry[] = [];
    let error = '';
    try {
      rows = await getAudit(action, principal);
    } catch (e) {
      error = (e as Error).message;
    }
    if (disposed) return;
    const body = rows
      .map(
        (e) => `<tr data-action="${esc(e.action)}"><td>${esc(formatTime(e.at))}</td><td>${esc(e.principal)}</td><td>${esc(e.action)}</td>
          <td>${esc(e.target)}</td><td>${esc(e.from_addr)}</td><td class="details">${esc(JSON.stringify(e.details))}</td></tr>`,
      )
      .join('');
    root.innerHTML = `<section class="panel audit-page" data-testid="audit-page">
      <h2>${esc(t('nav_audit'))}</h2>
      <form class="audit-filter"><label>${esc(t('audit_action'))} <input name="action" value="${esc(action)}" placeholder="alert. / sta. / review."></label>
        <label>${esc(t('audit_principal'))} <input name="principal" value="${esc(principal)}" placeholder="user:wang"></label>
        <button type="submit">${esc(t('audit_filter'))}</button></form>
      ${error ? `<div class="error" role="alert">${esc(t('load_failed'))}: ${esc(error)}</div>` : ''}
      <table class="list audit" data-testid="audit-list"><thead><tr><th>${esc(t('time'))}</th><th>${esc(t('audit_principal'))}</th><th>${esc(t('audit_action'))}</th>
        <th>${esc(t('audit_target'))}</th><th>${esc(t('audit_from'))}</th><th>${esc(t('audit_details'))}</th></tr></thead><tbody>${body}</tbody></table>
    </section>`;
    const form = root.querySelector<HTMLFormElement>('.audit-filter')!;
    form.onsubmit = (e) => {
      e.preventDefault();
      const d = new FormData(form);
      action = String(d.get('action') ?? '').trim();
      principal = String(d.get('principal') ?? '').trim();
      void draw();
    };
  };
  void draw();
  return () => {
    disposed = true;
  };
}
