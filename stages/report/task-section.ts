import type { TopLevelSpec } from 'vega-lite';
import { toSvg } from '../../src/ui/svg-chart.js';
import { regressionByBin } from '../metrics/regression.js';
import { PROPERTY_COLUMNS, readProperties } from '../runtime/manifest.js';
import { oofTables } from './run-files.js';
import { assignBins, quantileEdges, wilson } from '../metrics/bins.js';
import { meanCi } from '../metrics/stats.js';
import { esc } from './html.js';
import { PRIMARY } from '../runtime/dataset-task.js';

interface Stat {
  mean: number;
  lo: number;
  hi: number;
  values: number[];
}

/** What `aggregate` writes for a multi-class or regression experiment. */
export interface TaskResult {
  experiment: string;
  task: 'multiclass' | 'regression';
  classes: string[];
  metrics: Record<string, Stat>;
  per_class?: Record<string, { precision: number; recall: number }>;
  confusion?: number[][];
  test_train_ratio?: number | null;
}

const NAMES: Record<string, string> = {
  accuracy: 'accuracy',
  balanced_accuracy: 'balanced accuracy',
  f1_macro: 'F1 (macro)',
  f1_weighted: 'F1 (weighted)',
  auc_ovr_macro: 'AUC (macro one-vs-rest)',
  log_loss: 'log loss',
  mae: 'MAE',
  rmse: 'RMSE',
  mse: 'MSE',
  r2: 'R²',
  mape: 'MAPE',
};

const f3 = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3));

/** One pooled out-of-fold row of a multi-class or regression run: the image, its label, and the predicted class or value. */
export interface TaskOofRow {
  id: string;
  target: number;
  pred: number;
  /** Multi-class: P(true class). */
  pTrue?: number;
}

/** Pooled out-of-fold rows of a multi-class or regression experiment (oof.csv read by its header). */
export function taskOof(runsDir: string): TaskOofRow[] {
  return oofTables(runsDir).flatMap(({ column, rows }) =>
    rows.map((c) => {
      const target = Number(c[column('label')]);
      const pTrue = column(`p_${target}`);
      return { id: c[column('id')], target, pred: Number(c[column('pred')]), ...(pTrue >= 0 ? { pTrue: Number(c[pTrue]) } : {}) };
    }),
  );
}

function scatter(points: { target: number; pred: number }[], experiment: string): TopLevelSpec {
  const lo = Math.min(...points.flatMap((p) => [p.target, p.pred]));
  const hi = Math.max(...points.flatMap((p) => [p.target, p.pred]));
  return {
    title: `${experiment}: predicted against true (out-of-fold; the diagonal is perfect)`,
    width: 260,
    height: 260,
    layer: [
      { data: { values: points }, mark: { type: 'point', filled: true, opacity: 0.5 }, encoding: { x: { field: 'target', type: 'quantitative', title: 'true', scale: { domain: [lo, hi] } }, y: { field: 'pred', type: 'quantitative', title: 'predicted', scale: { domain: [lo, hi] } } } },
      { data: { values: [{ target: lo, pred: lo }, { target: hi, pred: hi }] }, mark: { type: 'line', color: '#999', strokeDash: [4, 3] }, encoding: { x: { field: 'target', type: 'quantitative' }, y: { field: 'pred', type: 'quantitative' } } },
    ],
  } as TopLevelSpec;
}

function errorHistogram(points: { target: number; pred: number }[], experiment: string): TopLevelSpec {
  return {
    title: `${experiment}: errors (predicted - true)`,
    width: 260,
    height: 140,
    data: { values: points.map((p) => ({ error: p.pred - p.target })) },
    mark: 'bar',
    encoding: { x: { field: 'error', type: 'quantitative', bin: { maxbins: 30 }, title: 'error' }, y: { aggregate: 'count', type: 'quantitative', title: 'images' } },
  } as TopLevelSpec;
}

/** A multi-class or regression experiment's part of the report: metrics with intervals, then the task's own views. */
export async function taskSection(result: TaskResult, label: string, runsDir: string, dataDir: string | undefined, versus?: { baseline: string; p?: number; holm?: number; delta?: number }): Promise<{ html: string[]; md: string[] }> {
  const rows = Object.entries(result.metrics).map(([k, s]) => [NAMES[k] ?? k, `${f3(s.mean)} [${f3(s.lo)}, ${f3(s.hi)}]`]);
  const headline = PRIMARY[result.task];
  if (versus) {
    rows.push([
      `Δ ${headline.name} vs ${versus.baseline}`,
      versus.p === undefined ? `not compared: no results for ${versus.baseline} yet, or ${headline.name} is not defined on every fold of both (a class missing from a validation fold)` : `${versus.delta! >= 0 ? '+' : ''}${f3(versus.delta!)}; p (corrected t) ${versus.p.toFixed(3)}, p (Holm) ${versus.holm!.toFixed(3)}`,
    ]);
  }
  const title = `${result.experiment} (${result.task === 'multiclass' ? `${result.classes.length}-class` : 'regression'}): ${label}`;
  const html = [`<h3>${esc(title)}</h3>`, `<table><tr><th>metric</th><th>mean over folds [95% CI]</th></tr>${rows.map((r) => `<tr><td>${esc(r[0])}</td><td>${esc(r[1])}</td></tr>`).join('')}</table>`];
  const md = [`### ${title}`, '', '| metric | mean over folds [95% CI] |', '|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`), ''];
  if (result.task === 'multiclass' && result.confusion && result.per_class) {
    const c = result.confusion;
    const names = result.classes;
    const cell = (i: number, j: number) => {
      const total = c[i].reduce((a, b) => a + b, 0);
      return `${c[i][j]} (${total ? ((100 * c[i][j]) / total).toFixed(0) : '0'}%)`;
    };
    html.push(`<table class="cm"><caption>confusion (pooled out-of-fold; row % of each true class)</caption><tr><th>true \\ predicted</th>${names.map((n) => `<th>${esc(n)}</th>`).join('')}</tr>${names.map((n, i) => `<tr><th>${esc(n)}</th>${names.map((_, j) => `<td>${cell(i, j)}</td>`).join('')}</tr>`).join('')}</table>`);
    html.push(`<table><tr><th>class</th><th>precision</th><th>recall</th></tr>${names.map((n) => `<tr><td>${esc(n)}</td><td>${f3(result.per_class![n].precision)}</td><td>${f3(result.per_class![n].recall)}</td></tr>`).join('')}</table>`);
    md.push('| true \\ predicted | ' + names.join(' | ') + ' |', `|---|${names.map(() => '---').join('|')}|`, ...names.map((n, i) => `| ${n} | ${names.map((_, j) => cell(i, j)).join(' | ')} |`), '');
    md.push('| class | precision | recall |', '|---|---|---|', ...names.map((n) => `| ${n} | ${f3(result.per_class![n].precision)} | ${f3(result.per_class![n].recall)} |`), '');
  }
  if (result.task === 'regression') {
    const points = taskOof(runsDir);
    if (points.length) {
      html.push(`<div class="chart">${await toSvg(scatter(points, result.experiment))}</div><div class="chart">${await toSvg(errorHistogram(points, result.experiment))}</div>`);
      const bins = regressionByBin(points.map((p) => p.target), points.map((p) => p.pred));
      const range = (b: (typeof bins)[number]) => (b.lo === null ? `≤ ${f3(b.hi!)}` : b.hi === null ? `> ${f3(b.lo)}` : `(${f3(b.lo)}, ${f3(b.hi)}]`);
      const binRows = bins.map((b) => [range(b), String(b.metrics.n), f3(b.metrics.mae), f3(b.metrics.rmse), b.metrics.mape === null ? 'n/a (targets near 0)' : f3(b.metrics.mape)]);
      html.push(`<table><caption>per quartile of the target (pooled out-of-fold)</caption><tr><th>target</th><th>n</th><th>MAE</th><th>RMSE</th><th>MAPE</th></tr>${binRows.map((r) => `<tr>${r.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`).join('')}</table>`);
      md.push('| target | n | MAE | RMSE | MAPE |', '|---|---|---|---|---|', ...binRows.map((r) => `| ${r.join(' | ')} |`), '');
    }
  }
  const byProperty = propertyRows(result.task, taskOof(runsDir), dataDir);
  if (byProperty.length) {
    const header = result.task === 'multiclass' ? ['property', 'bin', 'n', 'accuracy [95% CI]', 'log loss [95% CI]'] : ['property', 'bin', 'n', 'MAE [95% CI]', 'RMSE'];
    html.push(`<table><caption>errors by image property (pooled out-of-fold; quartile bins)</caption><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${byProperty.map((r) => `<tr>${r.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`).join('')}</table>`);
    md.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...byProperty.map((r) => `| ${r.join(' | ')} |`), '');
  }
  return { html, md };
}

/**
 * The errors-by-property breakdown for the other tasks: per quartile of each recorded image
 * property, accuracy (Wilson) and log loss (t over images) of a multi-class model, MAE (t over
 * images) and RMSE of a regression.
 */
function propertyRows(task: 'multiclass' | 'regression', rows: TaskOofRow[], dataDir: string | undefined): string[][] {
  if (!dataDir || rows.length === 0) return [];
  const properties = readProperties(dataDir);
  const out: string[][] = [];
  const ci = (s: { mean: number; lo: number; hi: number }) => (Number.isNaN(s.lo) ? f3(s.mean) : `${f3(s.mean)} [${f3(s.lo)}, ${f3(s.hi)}]`);
  for (const property of PROPERTY_COLUMNS) {
    const values = rows.map((r) => properties.get(r.id)?.[property]);
    if (values.some((v) => v === undefined) || new Set(values).size < 2) continue;
    const edges = quantileEdges(values as number[], 4);
    const bins = assignBins(values as number[], edges);
    for (let b = 0; b <= edges.length; b++) {
      const inBin = rows.filter((_, i) => bins[i] === b);
      if (inBin.length === 0) continue;
      const name = b === 0 ? `≤ ${f3(edges[0])}` : b === edges.length ? `> ${f3(edges[b - 1])}` : `(${f3(edges[b - 1])}, ${f3(edges[b])}]`;
      const many = (v: number[]) => (v.length > 1 ? meanCi(v) : { mean: v[0], lo: NaN, hi: NaN });
      if (task === 'multiclass') {
        const correct = inBin.filter((r) => r.pred === r.target).length;
        const w = wilson(correct, inBin.length);
        out.push([property, name, String(inBin.length), ci({ mean: correct / inBin.length, ...w }), ci(many(inBin.map((r) => -Math.log(Math.min(1 - 1e-15, Math.max(1e-15, r.pTrue ?? 0))))))]);
      } else {
        const errors = inBin.map((r) => Math.abs(r.pred - r.target));
        out.push([property, name, String(inBin.length), ci(many(errors)), f3(Math.sqrt(errors.reduce((a, e) => a + e * e, 0) / errors.length))]);
      }
    }
  }
  return out;
}
