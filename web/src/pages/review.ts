// Data review (数据审核): one station-day at a time. The chart shows the day's values of a
// parameter with instrument/QC flags marked and the ranges already reviewed shaded; a reviewer
// picks a time range (click two points, or type the times), marks it invalid or valid with a
// reason from the fixed list, undoes a review, and approves the day. Raw values never change:
// reviews are a layer the assessments apply (docs/review.md).
import {
  approveDay,
  createReview,
  getApprovals,
  getReviews,
  getSeries,
  undoApproval,
  undoReview,
  type Approval,
  type Review,
  type Series,
  type Station,
} from '../api';
import { session } from '../account';
import { esc } from '../dom';
import { echarts, type ECharts } from '../echarts';
import { lang, nameOf, t, type Key } from '../i18n';
import { network, errorBox } from './common';

declare global {
  interface Window {
    /** Read by the e2e test: the review page's chart points and reviews shown. */
    qingshuiReview?: { points: number; reviews: number };
  }
}

const REASONS = ['instrument_fault', 'maintenance', 'out_of_range', 'communication', 'interference', 'other'] as const;

/** Local midnight (the network's offset, Beijing time by default) of `day` (YYYY-MM-DD). */
function dayStart(day: string, offsetMin: number): Date {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y!, m! - 1, d!) - offsetMin * 60_000);
}

function isoDay(d: Date, offsetMin: number): string {
  return new Date(d.getTime() + offsetMin * 60_000).toISOString().slice(0, 10);
}

function hhmm(d: Date, offsetMin: number): string {
  return new Date(d.getTime() + offsetMin * 60_000).toISOString().slice(11, 16);
}

export function renderReview(root: HTMLElement, code: string | undefined): () => void {
  let chart: ECharts | null = null;
  let disposed = false;
  const offsetMin = 8 * 60;
  let day = isoDay(new Date(Date.now() - 86_400_000), offsetMin);
  let parameter: string | null = null;
  let picks: Date[] = [];
  let message = '';

  const canReview = () => ['reviewer', 'admin'].includes(session?.role ?? '') || (session?.principal ?? '').includes('--open');

  const draw = async () => {
    const n = await network().catch((e) => {
      errorBox(root, e, draw);
      return null;
    });
    if (!n || disposed) return;
    const st: Station | undefined = n.stations.find((s) => s.code === code) ?? n.stations[0];
    if (!st) return;
    const params = [...new Set(st.datastreams.map((d) => d.parameter))];
    parameter ??= params.includes('tp') ? 'tp' : (params[0] ?? null);
    const ds = st.datastreams.find((d) => d.parameter === parameter && (d as { speaks?: boolean }).speaks) ?? st.datastreams.find((d) => d.parameter === parameter);
    const from = dayStart(day, offsetMin);
    const to = new Date(from.getTime() + 86_400_000);
    let series: Series | null = null;
    let reviews: Review[] = [];
    let approvals: Approval[] = [];
    try {
      if (ds) [series, reviews] = await Promise.all([getSeries(ds.id, from, to, 'raw'), getReviews(ds.id, from, to)]);
      approvals = await getApprovals(st.code, day, day);
    } catch (e) {
      message = `${t('load_failed')}: ${(e as Error).message}`;
    }
    if (disposed) return;
    const approved = approvals.find((a) => !a.undone_at);
    const stations = n.stations.map((s) => `<option value="${esc(s.code)}" ${s.code === st.code ? 'selected' : ''}>${esc(s.code)} ${esc(nameOf(s))}</option>`).join('');
    const paramOptions = params
      .map((p) => `<option value="${esc(p)}" ${p === parameter ? 'selected' : ''}>${esc(nameOf(n.parameters.find((q) => q.code === p)) || p)}</option>`)
      .join('');
    const reasonOptions = REASONS.map((r) => `<option value="${r}">${esc(t(`reason_${r}` as Key))}</option>`).join('');
    const live = reviews.filter((r) => !r.undone_at);
    const rows = reviews
      .map(
        (r) => `<tr data-review="${r.id}" class="${r.undone_at ? 'undone' : ''}"><td>${esc(hhmm(new Date(r.from), offsetMin))}–${esc(hhmm(new Date(r.to), offsetMin))}</td>
          <td class="verdict-${esc(r.verdict)}">${esc(t(r.verdict === 'invalid' ? 'review_invalid' : 'review_valid'))}</td>
          <td>${esc(lang() === 'zh' ? r.reason_zh : r.reason_en)}${r.note ? ` · ${esc(r.note)}` : ''}</td><td>${esc(r.by)}</td>
          <td>${r.undone_at ? `${esc(t('review_undone'))} (${esc(r.undone_by ?? '')})` : canReview() ? `<button data-undo="${r.id}">${esc(t('review_undo'))}</button>` : ''}</td></tr>`,
      )
      .join('');
    root.innerHTML = `
      <section class="panel review-page" data-testid="review-page">
        <div class="review-head">
          <select id="review-station" aria-label="${esc(t('choose_station'))}">${stations}</select>
          <input type="date" id="review-day" value="${esc(day)}" aria-label="${esc(t('review_day'))}">
          <select id="review-param" aria-label="${esc(t('parameter'))}">${paramOptions}</select>
          <span class="approval" data-testid="review-approval">${approved ? `✔ ${esc(t('review_approved'))} · ${esc(approved.by)}` : esc(t('review_not_approved'))}</span>
          ${canReview() ? (approved ? `<button id="review-unapprove">${esc(t('review_undo'))}</button>` : `<button id="review-approve" data-testid="review-approve">${esc(t('review_approve_day'))}</button>`) : ''}
        </div>
        <div id="review-chart" class="review-chart" data-testid="review-chart"></div>
        ${
          canReview()
            ? `<form class="review-form" data-testid="review-form">
          <label>${esc(t('review_from'))} <input type="time" name="from" value="${picks[0] ? hhmm(picks[0], offsetMin) : '00:00'}"></label>
          <label>${esc(t('review_to'))} <input type="time" name="to" value="${picks[1] ? hhmm(picks[1], offsetMin) : '23:59'}"></label>
          <label>${esc(t('review_reason'))} <select name="reason">${reasonOptions}</select></label>
          <label>${esc(t('review_note'))} <input name="note"></label>
          <button type="submit" name="verdict" value="invalid" data-testid="review-invalid">${esc(t('review_mark_invalid'))}</button>
          <button type="submit" name="verdict" value="valid">${esc(t('review_mark_valid'))}</button>
          <span class="muted">${esc(t('review_hint'))}</span>
        </form>`
            : `<div class="muted">${esc(t('review_need_role'))}</div>`
        }
        ${message ? `<div class="error" role="alert">${esc(message)}</div>` : ''}
        <table class="list reviews" data-testid="review-list"><thead><tr><th>${esc(t('time'))}</th><th>${esc(t('review_verdict'))}</th><th>${esc(t('review_reason'))}</th><th>${esc(t('review_by'))}</th><th></th></tr></thead>
          <tbody>${rows || `<tr><td colspan="5" class="muted">${esc(t('review_none'))}</td></tr>`}</tbody></table>
      </section>`;
    const points = (series?.points ?? []).filter((p) => p.v !== null);
    const el = root.querySelector<HTMLElement>('#review-chart')!;
    chart?.dispose();
    chart = echarts.init(el, undefined, { renderer: 'canvas' });
    chart.setOption({
      animation: false,
      grid: { left: 50, right: 16, top: 20, bottom: 30 },
      tooltip: {
        trigger: 'axis',
        formatter: (ps: { value: [string, number]; name: string }[]) =>
          ps.map((p) => `${hhmm(new Date(p.value[0]), offsetMin)} · ${p.value[1]}${p.name ? ` · ${t('flag')} ${p.name}` : ''}`).join('<br>'),
      },
      // The network's local time (Beijing time), whatever the browser's zone.
      xAxis: { type: 'time', min: from.getTime(), max: to.getTime(), interval: 3 * 3600_000, axisLabel: { formatter: (v: number) => hhmm(new Date(v), offsetMin) } },
      yAxis: { type: 'value', scale: true, name: series?.unit ?? '' },
      series: [
        {
          id: 'values',
          type: 'line',
          showSymbol: true,
          symbolSize: 6,
          data: points.map((p) => ({
            value: [p.t, p.v],
            itemStyle: p.flag && p.flag !== 'N' ? { color: '#c0392b' } : undefined,
            symbolSize: p.flag && p.flag !== 'N' ? 10 : 6,
            name: p.flag && p.flag !== 'N' ? `${p.flag}` : '',
          })),
          markArea: {
            silent: true,
            data: live.map((r) => [
              { xAxis: r.from, itemStyle: { color: r.verdict === 'invalid' ? 'rgba(192,57,43,0.15)' : 'rgba(39,174,96,0.12)' } },
              { xAxis: r.to },
            ]),
          },
        },
      ],
    });
    window.qingshuiReview = { points: points.length, reviews: live.length };
    chart.on('click', (e) => {
      const v = (e.value as [string, number] | undefined)?.[0];
      if (!v) return;
      picks = picks.length >= 2 ? [new Date(v)] : [...picks, new Date(v)].sort((a, b) => a.getTime() - b.getTime());
      const form = root.querySelector<HTMLFormElement>('.review-form');
      if (form) {
        (form.elements.namedItem('from') as HTMLInputElement).value = hhmm(picks[0]!, offsetMin);
        (form.elements.namedItem('to') as HTMLInputElement).value = hhmm(picks[picks.length - 1]!, offsetMin);
      }
    });
    root.querySelector<HTMLSelectElement>('#review-station')!.onchange = (e) => (location.hash = `#/review/${encodeURIComponent((e.target as HTMLSelectElement).value)}`);
    root.querySelector<HTMLInputElement>('#review-day')!.onchange = (e) => {
      day = (e.target as HTMLInputElement).value || day;
      picks = [];
      void draw();
    };
    root.querySelector<HTMLSelectElement>('#review-param')!.onchange = (e) => {
      parameter = (e.target as HTMLSelectElement).value;
      void draw();
    };
    const act = async (f: () => Promise<unknown>) => {
      try {
        await f();
        message = '';
      } catch (err) {
        message = `${t('action_failed')}: ${(err as Error).message}`;
      }
      await draw();
    };
    root.querySelector<HTMLButtonElement>('#review-approve')?.addEventListener('click', () => act(() => approveDay(st.code, day)));
    root.querySelector<HTMLButtonElement>('#review-unapprove')?.addEventListener('click', () => act(() => undoApproval(approved!.id)));
    root.querySelectorAll<HTMLButtonElement>('button[data-undo]').forEach((b) => (b.onclick = () => act(() => undoReview(Number(b.dataset.undo)))));
    const form = root.querySelector<HTMLFormElement>('.review-form');
    if (form && ds) {
      form.onsubmit = (e) => {
        e.preventDefault();
        const verdict = ((e as SubmitEvent).submitter as HTMLButtonElement | null)?.value === 'valid' ? 'valid' : 'invalid';
        const data = new FormData(form);
        const at = (hm: string, end: boolean) => {
          const [h, m] = hm.split(':').map(Number);
          return new Date(from.getTime() + ((h ?? 0) * 60 + (m ?? 0)) * 60_000 + (end ? 59_999 : 0)).toISOString();
        };
        void act(() =>
          createReview({
            datastream_id: ds.id,
            from: at(String(data.get('from') ?? '00:00'), false),
            to: at(String(data.get('to') ?? '23:59'), true),
            verdict,
            reason: String(data.get('reason') ?? 'other'),
            note: String(data.get('note') ?? ''),
          }),
        );
      };
    }
  };
  void draw();
  const onResize = () => chart?.resize();
  window.addEventListener('resize', onResize);
  return () => {
    disposed = true;
    window.removeEventListener('resize', onResize);
    chart?.dispose();
  };
}
