// Assessment per GB 3838-2002 and the national method for a chosen month, quarter or year: the
// lake, its basins, the rivers and the intake, each with class, grade words and colour, main
// pollutants with exceedance multiples, TN and fecal coliform on their own lines, TLI with its
// components, and the explanation ("why") the API returns.
import { getAssessment, isWaterBody, type Assessment, type IndicatorResult, type Network, type StationAssessment, type WaterBodyAssessment } from '../api';
import { classChip, colourChip, esc } from '../dom';
import { beijingParts, calendarPeriod, formatTime, periodLabel, reportUrl, type PeriodKind } from '../format';
import { lang, nameOf, t, type Key } from '../i18n';
import { errorBox, network, safeT } from './common';

interface ScopeDef {
  scope: string;
  title: string;
}

function scopes(n: Network): ScopeDef[] {
  const intake = n.stations.find((s) => s.kind === 'intake');
  return [
    { scope: 'waterbody:lake', title: t('scope_lake') },
    ...n.basins.map((b) => ({ scope: `basin:${b.id}`, title: nameOf(b) })),
    { scope: 'waterbody:rivers', title: t('scope_rivers') },
    ...(intake ? [{ scope: `station:${intake.code}`, title: `${t('scope_intake')} ${intake.code}` }] : []),
  ];
}

const l10n = (a: { [k: string]: unknown }, field: string) => String(a[`${field}_${lang() === 'zh' ? 'zh' : 'en'}`] ?? '');

function pollutants(s: StationAssessment | null): string {
  if (!s || !s.main_pollutants.length) return esc(t('none'));
  return s.main_pollutants.map((p) => esc(lang() === 'zh' ? p.display_zh : p.display_en)).join('、');
}

function tliLine(s: StationAssessment | null): string {
  const tr = s?.trophic;
  if (!tr) return '';
  if (tr.status !== 'computed') return `<span class="muted">TLI: ${esc(t('tli_not_computed'))} (${esc(tr.reason)})</span>`;
  return `<span class="tli" style="border-color:${esc(tr.colour)}">TLI(Σ) ${tr.tli.toFixed(2)} ${esc(lang() === 'zh' ? tr.state_zh : tr.state_en)}</span>`;
}

/** The station-like result of a scope (the combined means of a water body). */
function core(a: Assessment): StationAssessment | null {
  return isWaterBody(a) ? a.combined : a;
}

function card(def: ScopeDef, a: Assessment | Error | undefined, selected: boolean): string {
  const l = lang();
  if (!a) return `<div class="acard"><h3>${esc(def.title)}</h3><div class="muted">${esc(t('loading'))}</div></div>`;
  if (a instanceof Error) return `<div class="acard"><h3>${esc(def.title)}</h3><div class="error">${esc(t('load_failed'))}: ${esc(a.message)}</div></div>`;
  const s = core(a);
  return `<button class="acard ${selected ? 'sel' : ''}" data-scope="${esc(def.scope)}" style="border-top-color:${esc(a.colour)}">
    <h3>${esc(def.title)}</h3>
    <div class="grade">${colourChip(a.colour, l10n(a as never, 'grade'))} ${a.class ? classChip(a.class, l) : ''}</div>
    ${s ? `<div class="wording">${esc(l10n(s as never, 'wording'))}</div>` : ''}
    <div><small>${esc(t('main_pollutants'))}:</small> ${isWaterBody(a) && a.method === 'proportion_method' ? basinPollutants(a) : pollutants(s)}</div>
    ${tliLine(s)}
  </button>`;
}

function basinPollutants(a: WaterBodyAssessment): string {
  if (!a.main_pollutants.length) return esc(t('none'));
  return a.main_pollutants.map((p) => `${esc(nameOf(p))} ${p.exceedance_rate_percent}%`).join('、');
}

function indicatorRows(list: IndicatorResult[]): string {
  const l = lang();
  return list
    .map(
      (i) => `<tr class="${i.meets_target === false ? 'exceeds' : ''}"><td>${esc(nameOf(i))}</td><td class="num">${esc(i.display || '—')}</td><td>${esc(i.unit)}</td>
      <td>${i.class ? classChip(i.class, l) : `<span class="muted">${esc(i.classification?.reason ?? '—')}</span>`}</td>
      <td>${esc(i.classification?.limit?.text ?? '')}</td><td class="num">${i.exceedance_multiple ?? ''}</td>
      <td class="num ${i.counts.incomplete ? 'warn' : ''}">${i.counts.valid}/${i.counts.total}</td></tr>`,
    )
    .join('');
}

function indicatorTable(title: string, list: IndicatorResult[]): string {
  if (!list.length) return '';
  return `<h3>${esc(title)}</h3><table class="list ind"><thead><tr><th>${esc(t('parameter'))}</th><th>${esc(t('value'))}</th><th>${esc(t('unit'))}</th><th>${esc(t('class'))}</th><th>${esc(t('compared_limit'))}</th><th>${esc(t('exceedance_multiple'))}</th><th>${esc(t('counts'))}</th></tr></thead><tbody>${indicatorRows(list)}</tbody></table>`;
}

function why(a: Assessment): string {
  const l = lang();
  const s = core(a);
  const items: string[] = [];
  if (isWaterBody(a)) {
    items.push(`<li>${esc(t('method'))}: ${esc(safeT(`method_${a.method}`) ?? a.method)}</li>`);
    if (a.proportion) {
      items.push(
        `<li>${esc(t('sections'))} ${a.proportion.sections}: ${esc(t('share_good'))} ${a.proportion.share_good_percent}% · ${esc(t('share_worse_than_v'))} ${a.proportion.share_worse_than_v_percent}%</li>`,
      );
    }
  }
  if (s) {
    items.push(`<li>${esc(l10n(s as never, 'wording'))} — ${esc(t('grade'))}: ${esc(l10n(s as never, 'grade'))}</li>`);
    if (s.limiting_parameters.length) {
      const names = s.limiting_parameters.map((c) => nameOf(s.indicators.find((i) => i.parameter === c)) || c);
      items.push(`<li>${esc(t('limiting'))}: ${esc(names.join('、'))}</li>`);
    }
    if (s.target) {
      const verdict = s.target.meets_target === null ? t('target_unknown') : s.target.meets_target ? t('meets_target') : t('fails_target');
      const ex = s.target.exceeding_items.map((e) => `${nameOf(e)}${e.multiple_over_target !== null ? `(${e.multiple_over_target})` : ''}`).join('、');
      items.push(`<li>${esc(t('target'))} ${classChip(s.target.target_class, l)}: <b class="${s.target.meets_target ? 'ok' : 'bad'}">${esc(verdict)}</b>${ex ? ` — ${esc(t('exceeding_items'))}: ${esc(ex)}` : ''}</li>`);
    }
    items.push(`<li>${esc(t('main_pollutants'))}: ${pollutants(s)}</li>`);
    if (s.partial) items.push(`<li class="warn">${esc(t('partial'))}: ${esc(s.missing_core_items.join(', '))}</li>`);
  }
  return `<ul class="why">${items.join('')}</ul>`;
}

function tliTable(s: StationAssessment | null): string {
  const tr = s?.trophic;
  if (!tr || tr.status !== 'computed') return tr ? `<h3>${esc(t('tli'))}</h3><p class="muted">${esc(t('tli_not_computed'))}: ${esc(tr.reason)}</p>` : '';
  const rows = tr.components
    .map((c) => `<tr><td>TLI(${esc(c.component)})</td><td class="num">${c.value}</td><td class="num">${c.index.toFixed(2)}</td><td class="num">${c.weight.toFixed(4)}</td></tr>`)
    .join('');
  return `<h3>${esc(t('tli'))}: ${tliLine(s)}</h3><table class="list"><thead><tr><th>${esc(t('tli_components'))}</th><th>${esc(t('value'))}</th><th>TLI(j)</th><th>${esc(t('tli_weight'))}</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function stationsTable(a: WaterBodyAssessment): string {
  const l = lang();
  const rows = a.stations
    .map(
      (s) => `<tr><td><a href="#/station/${esc(s.station ?? '')}">${esc(s.station ?? '')}</a></td><td>${classChip(s.class, l)}</td><td>${colourChip(s.colour, l10n(s as never, 'grade'))}</td>
      <td>${pollutants(s)}</td><td>${esc(s.reference_indicators.map((r) => `${nameOf(r)} ${r.display}${r.class ? ` (${r.class === 'WorseThanV' ? '劣Ⅴ' : r.class})` : ''}`).join(' · '))}</td><td>${tliLine(s)}</td></tr>`,
    )
    .join('');
  return `<h3>${esc(t('per_station'))}</h3><table class="list"><thead><tr><th>${esc(t('station'))}</th><th>${esc(t('class'))}</th><th>${esc(t('grade'))}</th><th>${esc(t('main_pollutants'))}</th><th>${esc(t('reference_lines'))}</th><th>TLI</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** Which data the judgement rests on: left out by review, confirmed, not yet reviewed. */
function reviewLine(a: Assessment): string {
  const r = a.review;
  if (!r) return '';
  return `<p class="review-tally" data-testid="review-tally">${esc(t('review_tally'))}: ${r.invalidated} ${esc(t('review_tally_invalid'))} · ${r.confirmed} ${esc(t('review_tally_confirmed'))} · ${r.unreviewed} ${esc(t('review_tally_unreviewed'))}</p>`;
}

function detail(def: ScopeDef, a: Assessment): string {
  const s = core(a);
  return `<div class="panel detail" data-testid="assessment-detail">
    <h2>${esc(def.title)} · ${esc(formatTime(a.from))} – ${esc(formatTime(a.to))}</h2>
    <h3>${esc(t('why'))}</h3>${why(a)}
    ${reviewLine(a)}
    ${s ? indicatorTable(isWaterBody(a) ? t('combined_means') : t('parameter'), s.indicators) : ''}
    ${s ? indicatorTable(t('reference_lines'), s.reference_indicators) : ''}
    ${tliTable(s)}
    ${isWaterBody(a) ? stationsTable(a) : ''}
    ${s ? indicatorTable(t('other_parameters'), s.other_parameters) : ''}
  </div>`;
}

export function renderAssessment(root: HTMLElement): () => void {
  const now = beijingParts(new Date());
  let kind: PeriodKind = 'month';
  let year = now.year;
  let index = now.month;
  let selected = 'waterbody:lake';
  let results: Record<string, Assessment | Error> = {};
  let disposed = false;
  let gen = 0;

  const draw = (n: Network) => {
    if (disposed) return;
    const l = lang();
    const defs = scopes(n);
    const years = [now.year - 2, now.year - 1, now.year].map((y) => `<option ${y === year ? 'selected' : ''}>${y}</option>`).join('');
    const idxOpts =
      kind === 'year'
        ? ''
        : Array.from({ length: kind === 'month' ? 12 : 4 }, (_, i) => i + 1)
            .map((i) => `<option value="${i}" ${i === index ? 'selected' : ''}>${esc(kind === 'month' ? (l === 'zh' ? `${i}月` : String(i).padStart(2, '0')) : l === 'zh' ? `第${i}季度` : `Q${i}`)}</option>`)
            .join('');
    const sel = defs.find((d) => d.scope === selected) ?? defs[0]!;
    const a = results[sel.scope];
    root.innerHTML = `
      <section class="panel controls">
        <strong>${esc(t('period'))}</strong>
        ${(['month', 'quarter', 'year'] as const).map((k) => `<button data-kind="${k}" class="${k === kind ? 'active' : ''}">${esc(t(`period_${k}` as Key))}</button>`).join('')}
        <select id="year">${years}</select>
        ${kind === 'year' ? '' : `<select id="index">${idxOpts}</select>`}
        <span class="muted">${esc(periodLabel(kind, year, index, l))} (${esc(t('beijing_time'))})</span>
        <span class="report-links" data-testid="report-download"><strong>${esc(t('report_download'))}</strong>
          <a class="button" href="${esc(reportUrl(kind, year, index, 'pdf', l))}" download>${esc(t('report_pdf'))}</a>
          <a class="button" href="${esc(reportUrl(kind, year, index, 'xlsx', l))}" download>${esc(t('report_xlsx'))}</a></span>
      </section>
      <section class="acards" data-testid="assessment-cards">${defs.map((d) => card(d, results[d.scope], d.scope === sel.scope)).join('')}</section>
      ${a && !(a instanceof Error) ? detail(sel, a) : ''}`;
    root.querySelectorAll<HTMLElement>('[data-kind]').forEach((b) => {
      b.onclick = () => {
        kind = b.dataset.kind as PeriodKind;
        index = kind === 'month' ? now.month : kind === 'quarter' ? now.quarter : 1;
        void fetchAll(n);
      };
    });
    root.querySelector<HTMLSelectElement>('#year')!.onchange = (e) => {
      year = Number((e.target as HTMLSelectElement).value);
      void fetchAll(n);
    };
    const idx = root.querySelector<HTMLSelectElement>('#index');
    if (idx)
      idx.onchange = () => {
        index = Number(idx.value);
        void fetchAll(n);
      };
    root.querySelectorAll<HTMLElement>('[data-scope]').forEach((c) => {
      c.onclick = () => {
        selected = c.dataset.scope!;
        draw(n);
      };
    });
  };

  const fetchAll = async (n: Network) => {
    const mine = ++gen;
    results = {};
    draw(n);
    const { from, to } = calendarPeriod(kind, year, index);
    await Promise.all(
      scopes(n).map(async (d) => {
        try {
          const a = await getAssessment(d.scope, kind, from, to);
          if (mine === gen) results[d.scope] = a;
        } catch (e) {
          if (mine === gen) results[d.scope] = e as Error;
        }
        if (mine === gen) draw(n);
      }),
    );
  };

  const load = () =>
    network()
      .then((n) => fetchAll(n))
      .catch((e) => errorBox(root, e, load));
  load();
  return () => {
    disposed = true;
  };
}
