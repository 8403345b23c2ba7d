import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { oneWayAnova } from '../metrics/anova.js';
import { logitMeanCi, meanCi } from '../metrics/stats.js';
import type { RankedTrial } from '../select/index.js';
import { toSvg } from './charts.js';
import { esc, htmlTable, mdTable } from './html.js';

/** One rung's `rung<r>.json` (or `best.json`), as the select built-in writes it. */
export interface Selection {
  rung: string;
  metric: string;
  mode: 'max' | 'min';
  budget?: { param: string; value: number };
  runs: string;
  trials: RankedTrial[];
  promoted: string[];
}

export interface SearchRecord {
  name: string;
  rungs: Selection[];
  best?: Selection;
}

/** Metrics in [0, 1]: their intervals are taken on the logit scale, as the phases' are. */
const BOUNDED = /^(auc|pr_auc|accuracy|balanced_accuracy|f1|f1_macro|f1_weighted|precision|recall|auc_ovr_macro)$/;

/** Every search's selections under the searches folder (one folder per search stage). */
export function readSearches(dir: string | undefined): SearchRecord[] {
  if (!dir || !existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .flatMap((name) => {
      const folder = path.join(dir, name);
      const read = (file: string) => JSON.parse(readFileSync(path.join(folder, file), 'utf8')) as Selection;
      const rungs = readdirSync(folder)
        .map((f) => /^rung(\d+)\.json$/.exec(f))
        .filter((m): m is RegExpExecArray => m !== null)
        .sort((a, b) => Number(a[1]) - Number(b[1]))
        .map((m) => read(m[0]));
      if (rungs.length === 0) return [];
      return [{ name, rungs, ...(existsSync(path.join(folder, 'best.json')) ? { best: read('best.json') } : {}) }];
    });
}

/**
 * The groups a param's values fall into for its marginal and its importance: each value when
 * there are at most `maxValues` of them (choices, small ints), else `quantiles` equal-count bins
 * by rank (ties by trial order), labelled by the range of the values inside.
 */
export function paramGroups(values: readonly unknown[], maxValues = 6, quantiles = 4): { labels: string[]; group: number[] } {
  const distinct = [...new Set(values.map((v) => JSON.stringify(v)))];
  const numeric = values.every((v) => typeof v === 'number');
  if (distinct.length <= maxValues || !numeric) {
    const order = numeric ? distinct.map((d) => Number(d)).sort((a, b) => a - b).map((v) => JSON.stringify(v)) : distinct.sort();
    return { labels: order.map((d) => String(JSON.parse(d))), group: values.map((v) => order.indexOf(JSON.stringify(v))) };
  }
  const nums = values as number[];
  const rank = nums.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v || a.i - b.i);
  const group = new Array<number>(nums.length);
  rank.forEach(({ i }, r) => (group[i] = Math.floor((r * quantiles) / nums.length)));
  const labels = Array.from({ length: quantiles }, (_, k) => {
    const inside = nums.filter((_, i) => group[i] === k);
    return `${short(Math.min(...inside))}–${short(Math.max(...inside))}`;
  });
  return { labels, group };
}

const short = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 0.01 && Math.abs(v) < 1000 ? String(Number(v.toPrecision(3))) : v.toExponential(1));
const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');
const ciOf = (metric: string, values: number[]) => (BOUNDED.test(metric) ? logitMeanCi : meanCi)(values);

/** Each param's share of the metric's variance across trials (one-way ANOVA over its groups), most important first. */
export function paramImportance(trials: readonly RankedTrial[], keys: readonly string[]) {
  return keys
    .map((key) => {
      const { labels, group } = paramGroups(trials.map((t) => t.values[key]));
      const groups = labels.map((_, g) => trials.filter((_, i) => group[i] === g).map((t) => t.mean));
      return { key, labels, groups, ...oneWayAnova(groups) };
    })
    .sort((a, b) => (Number.isNaN(b.etaSquared) ? -1 : b.etaSquared) - (Number.isNaN(a.etaSquared) ? -1 : a.etaSquared) || a.key.localeCompare(b.key));
}

function parallelCoordinates(trials: readonly RankedTrial[], keys: readonly string[], metric: string): TopLevelSpec {
  // Choices by their order; a param spanning more than a decade on its log; each axis scaled to [0, 1].
  const columns = [...keys, metric];
  const raw = trials.map((t) => ({ ...t.values, [metric]: t.mean }) as Record<string, unknown>);
  const ends: { axis: string; position: number; label: string }[] = [];
  const scaled = columns.map((key, c) => {
    const values = raw.map((r) => r[key]);
    const numeric = values.every((v) => typeof v === 'number');
    const distinct = [...new Set(values.map((v) => JSON.stringify(v)))];
    // A choice, or a few numbers: evenly spaced in their order.
    if (c < keys.length && (!numeric || distinct.length <= 6)) {
      const order = numeric ? distinct.map(Number).sort((a, b) => a - b).map((v) => JSON.stringify(v)) : distinct.sort();
      order.forEach((d, k) => ends.push({ axis: key, position: order.length > 1 ? k / (order.length - 1) : 0.5, label: numeric ? short(Number(d)) : String(JSON.parse(d)) }));
      return values.map((v) => (order.length > 1 ? order.indexOf(JSON.stringify(v)) / (order.length - 1) : 0.5));
    }
    let nums = values as number[];
    const [lo, hi] = [Math.min(...nums), Math.max(...nums)];
    const log = lo > 0 && hi / lo >= 10;
    if (log) nums = nums.map(Math.log10);
    const [a, b] = [Math.min(...nums), Math.max(...nums)];
    ends.push({ axis: key, position: 0, label: short(lo) + (log ? ' (log)' : '') }, { axis: key, position: 1, label: short(hi) });
    return nums.map((v) => (b > a ? (v - a) / (b - a) : 0.5));
  });
  const rows = trials.flatMap((t, i) => columns.map((key, c) => ({ trial: t.trial, axis: key, position: scaled[c][i], metric: t.mean })));
  return {
    title: `Every trial across its params (each axis from its lowest to its highest value; log where it spans a decade), coloured by ${metric}`,
    width: Math.max(240, 110 * columns.length),
    height: 200,
    data: { values: rows },
    layer: [
      { mark: { type: 'rule', color: '#bbb' }, encoding: { x: { field: 'axis', type: 'nominal', sort: columns, title: null } } },
      {
        mark: { type: 'line', opacity: 0.8, strokeWidth: 1.5 },
        encoding: {
          x: { field: 'axis', type: 'nominal', sort: columns, title: null, axis: { labelAngle: 0 } },
          y: { field: 'position', type: 'quantitative', axis: null },
          detail: { field: 'trial', type: 'nominal' },
          color: { field: 'metric', type: 'quantitative', title: metric, scale: { scheme: 'viridis' } },
        },
      },
      { data: { values: ends }, mark: { type: 'text', align: 'left', dx: 4, fontSize: 10, color: '#333' }, encoding: { x: { field: 'axis', type: 'nominal', sort: columns }, y: { field: 'position', type: 'quantitative' }, text: { field: 'label' } } },
    ],
  } as TopLevelSpec;
}

function marginal(key: string, labels: string[], groups: number[][], metric: string): TopLevelSpec {
  const rows = labels.flatMap((label, g) => {
    if (groups[g].length === 0) return [];
    const stat = groups[g].length > 1 ? ciOf(metric, groups[g]) : { mean: groups[g][0], lo: groups[g][0], hi: groups[g][0] };
    return [{ value: label, order: g, mean: stat.mean, lo: stat.lo, hi: stat.hi, n: groups[g].length }];
  });
  const x = { field: 'value', type: 'ordinal', sort: labels, title: key, axis: { labelAngle: -35, labelLimit: 160 } };
  return {
    width: Math.max(90, 34 * labels.length),
    height: 120,
    data: { values: rows },
    layer: [
      { mark: { type: 'rule', color: '#4c78a8' }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: `${metric} (mean, 95% t interval${BOUNDED.test(metric) ? ', logit' : ''})`, scale: { zero: false } }, y2: { field: 'hi' } } },
      { mark: { type: 'point', filled: true, color: '#4c78a8' }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, tooltip: [{ field: 'n', title: 'trials' }] } },
    ],
  } as TopLevelSpec;
}

const SORTABLE = `<script>document.querySelectorAll('table.sortable th').forEach((th,i)=>th.addEventListener('click',()=>{const t=th.closest('table'),rows=[...t.querySelectorAll('tr')].slice(1),d=th.dataset.dir==='asc'?-1:1;th.dataset.dir=d>0?'asc':'desc';rows.sort((a,b)=>{const x=a.children[i].dataset.v??a.children[i].textContent,y=b.children[i].dataset.v??b.children[i].textContent;const nx=parseFloat(x),ny=parseFloat(y);return d*(isNaN(nx)||isNaN(ny)?x.localeCompare(y):nx-ny)});rows.forEach(r=>t.appendChild(r))}))</script>`;

/**
 * One section per search: its rungs, a sortable trials table, the trials across their params,
 * each param's marginal and importance at the first rung (every trial at the same budget), and
 * the best configuration with its interval, flagged as optimistic where it was chosen on the
 * folds it is scored on.
 */
export async function searchSection(searches: readonly SearchRecord[]): Promise<{ html: string[]; md: string[] }> {
  const html: string[] = [];
  const md: string[] = [];
  if (searches.length === 0) return { html, md };
  html.push('<h2>Hyperparameter searches</h2>');
  md.push('## Hyperparameter searches', '');
  for (const search of searches) {
    const first = search.rungs[0];
    const { metric, mode } = first;
    const keys = [...new Set(first.trials.flatMap((t) => Object.keys(t.values)))];
    const direction = mode === 'max' ? 'higher is better' : 'lower is better';
    html.push(`<h3>${esc(search.name)}: ${first.trials.length} trials, ranked by validation ${esc(metric)} (${direction})</h3>`);
    md.push(`### ${search.name}: ${first.trials.length} trials by ${metric} (${direction})`, '');

    if (search.rungs.length > 1 || first.budget) {
      const rows = search.rungs.map((r) => [r.rung, r.budget ? `${r.budget.param} = ${r.budget.value}` : '', String(r.trials.length), `${r.trials[0].trial} ${f4(r.trials[0].mean)}`, String(r.promoted.length)]);
      const header = ['rung', 'budget', 'trials', `best (${metric})`, 'promoted'];
      html.push(htmlTable(header, rows));
      md.push(...mdTable(header, rows), '');
    }

    // Trials by the furthest rung they reached, then by their metric there.
    const reached = new Map<string, { rung: number; mean: number }>();
    search.rungs.forEach((r, index) => r.trials.forEach((t) => reached.set(t.trial, { rung: index, mean: t.mean })));
    const sign = mode === 'max' ? -1 : 1;
    const ordered = [...first.trials].sort((a, b) => reached.get(b.trial)!.rung - reached.get(a.trial)!.rung || sign * (reached.get(a.trial)!.mean - reached.get(b.trial)!.mean));
    const rungColumns = search.rungs.map((r) => `${metric} at rung ${r.rung}`);
    const header = ['trial', ...keys, ...rungColumns];
    html.push(`<table class="sortable"><tr>${header.map((h) => `<th title="click to sort">${esc(h)}</th>`).join('')}</tr>`);
    md.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
    for (const t of ordered) {
      const scores = search.rungs.map((r) => r.trials.find((x) => x.trial === t.trial)?.mean);
      const cells = [t.trial, ...keys.map((k) => (typeof t.values[k] === 'number' ? short(t.values[k] as number) : String(t.values[k]))), ...scores.map((s) => (s === undefined ? '' : f4(s)))];
      const sortValues = [t.trial, ...keys.map((k) => String(t.values[k])), ...scores.map((s) => (s === undefined ? '' : String(s)))];
      html.push(`<tr>${cells.map((c, i) => `<td data-v="${esc(sortValues[i])}">${esc(c)}</td>`).join('')}</tr>`);
      md.push(`| ${cells.join(' | ')} |`);
    }
    html.push('</table>');
    md.push('');

    if (first.trials.length >= 3 && keys.length) {
      html.push(`<div class="chart">${await toSvg(parallelCoordinates(first.trials, keys, metric))}</div>`);
      const ranked = paramImportance(first.trials, keys);
      html.push(`<div class="chart">${await toSvg({ title: `Each param's marginal at rung ${first.rung}: ${metric} per value or quartile bin`, hconcat: ranked.map((r) => marginal(r.key, r.labels, r.groups, metric)) } as TopLevelSpec)}</div>`);
      const method =
        `Importance: the share of the trials' ${metric} variance between the groups of each param (η², one-way ANOVA; its F test's p-value), ` +
        `at rung ${first.rung}, where every trial had the same budget. Groups: each value for choices and params of at most 6 values, else 4 equal-count bins. ` +
        'A param that only matters together with another shows little here: this is each param on its own (fANOVA\'s first-order share, without its forest).';
      const rows = ranked.map((r) => [r.key, f4(r.etaSquared), Number.isFinite(r.f) ? r.f.toFixed(2) : 'n/a', Number.isFinite(r.p) ? r.p.toPrecision(3) : 'n/a', String(r.labels.length)]);
      const head = ['param', 'η² (share of variance)', 'F', 'p', 'groups'];
      html.push(`<p class="methods">${esc(method)}</p>${htmlTable(head, rows)}`);
      md.push(method, '', ...mdTable(head, rows), '');
    }

    const last = search.rungs[search.rungs.length - 1];
    const winner = search.best?.trials[0] ?? last.trials[0];
    const searchFolds = Object.keys(last.trials[0].folds);
    const folds = Object.keys(winner.folds);
    const stat = ciOf(metric, Object.values(winner.folds));
    const values = Object.entries(winner.values).map(([k, v]) => `${k} = ${typeof v === 'number' ? short(v) : String(v)}`).join(', ');
    const unseen = folds.filter((f) => !searchFolds.includes(f));
    const unseenStat = unseen.length >= 2 ? ciOf(metric, unseen.map((f) => winner.folds[f])) : undefined;
    const lines = [
      `Best configuration: ${winner.trial} (${values}); ${metric} ${f4(stat.mean)} [${f4(stat.lo)}, ${f4(stat.hi)}] (95% t interval${BOUNDED.test(metric) ? ', logit scale' : ''}) over ${folds.length} folds${search.best ? ' (refitted)' : ' (the folds it was searched on)'}.`,
      ...(unseenStat ? [`On the ${unseen.length} folds the search never scored (${unseen.join(', ')}): ${f4(unseenStat.mean)} [${f4(unseenStat.lo)}, ${f4(unseenStat.hi)}].`] : []),
    ];
    const warning =
      `Optimistic: it was chosen as the best of ${first.trials.length} trials by its ${metric} on ${searchFolds.join(', ')}` +
      `${folds.some((f) => searchFolds.includes(f)) ? ', and the interval includes those folds' : ''}, so part of its lead is luck (selection bias). ` +
      'An unbiased estimate needs images the choice never saw: nested cross-validation, or the folds outside the search alone.';
    html.push(`<p><b>${esc(lines.join(' '))}</b></p><p class="warn">${esc(warning)}</p>`);
    md.push(...lines, '', `> ${warning}`, '');
  }
  html.push(SORTABLE);
  return { html, md };
}
