import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { binaryByGroup, binnedConfusion, groupBy, multiclassByGroup, regressionByGroup, type GroupMetrics } from '../metrics/group-metrics.js';
import { readManifestColumn } from '../runtime/manifest.js';
import { toSvg } from './charts.js';
import { esc, htmlTable, mdTable } from './html.js';
import { readOof } from './run-files.js';
import { taskOof } from './task-section.js';

/** One `with: { groups: [...] }` entry: an experiment (or `exp:target`), the column that groups its images, and how. */
export interface GroupRequest {
  experiment: string;
  by: string;
  edges?: number[];
  bins?: number;
}

const cell = (s: { value: number; lo: number; hi: number } | undefined) => (!s || Number.isNaN(s.value) ? 'n/a' : Number.isNaN(s.lo) ? s.value.toFixed(3) : `${s.value.toFixed(3)} [${s.lo.toFixed(3)}, ${s.hi.toFixed(3)}]`);

function bars(rows: GroupMetrics[], metric: 'auc' | 'accuracy' | 'mae', title: string, by: string): TopLevelSpec {
  const values = rows.filter((r) => r[metric] && !Number.isNaN(r[metric]!.value)).map((r) => ({ group: r.group, value: r[metric]!.value, lo: r[metric]!.lo, hi: r[metric]!.hi, n: r.n }));
  const x = { field: 'group', type: 'ordinal', sort: null, title: by, axis: { labelAngle: 0 } };
  return {
    title,
    width: Math.max(160, 60 * values.length),
    height: 140,
    data: { values },
    layer: [
      { mark: { type: 'bar', color: '#4c78a8', opacity: 0.8 }, encoding: { x, y: { field: 'value', type: 'quantitative', title: `${metric} (95% interval)`, scale: { zero: metric === 'mae' } } } },
      { mark: { type: 'rule', color: 'black' }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
    ],
  } as TopLevelSpec;
}

/**
 * Each requested pair: the experiment's target across the groups of a column (gender
 * accuracy per age group, label AUC per lighting bin), as a table and a bar chart with
 * intervals; a regression target grouped by its own column also gets its true-group x
 * predicted-group confusion.
 */
export async function groupSection(requests: readonly GroupRequest[], runsRoot: string, dataDir: string | undefined, taskOf: (experiment: string) => 'binary' | 'multiclass' | 'regression' | undefined): Promise<{ html: string[]; md: string[] }> {
  const html: string[] = [];
  const md: string[] = [];
  if (requests.length === 0) return { html, md };
  html.push('<h2>Metrics across groups</h2>');
  md.push('## Metrics across groups', '');
  for (const r of requests) {
    const task = taskOf(r.experiment);
    const title = `${r.experiment} by ${r.by}`;
    html.push(`<h3>${esc(title)}</h3>`);
    md.push(`### ${title}`, '');
    const column = r.by === 'source' || !dataDir ? undefined : readManifestColumn(dataDir, r.by);
    const missing = !task ? `no results for ${r.experiment}` : r.by !== 'source' && !column ? `the dataset's manifest has no column ${r.by}` : undefined;
    if (missing) {
      html.push(`<p class="warn">${esc(missing)}.</p>`);
      md.push(`${missing}.`, '');
      continue;
    }
    const options = { ...(r.edges ? { edges: r.edges } : {}), ...(r.bins ? { bins: r.bins } : {}) };
    let rows: GroupMetrics[];
    let confusion: { labels: string[]; counts: number[][] } | undefined;
    if (task === 'binary') {
      const oof = readOof(path.join(runsRoot, r.experiment));
      const grouping = groupBy(oof.map((o) => (r.by === 'source' ? o.source : column!.get(o.id))), options);
      rows = binaryByGroup(oof.map((o) => o.label), oof.map((o) => o.prob), oof.map((o) => o.pred), grouping);
    } else {
      const oof = taskOof(path.join(runsRoot, r.experiment));
      const values = oof.map((o) => (r.by === 'source' ? undefined : column!.get(o.id)));
      const grouping = groupBy(values, options);
      if (task === 'multiclass') rows = multiclassByGroup(oof.map((o) => o.target), oof.map((o) => o.pred), grouping);
      else {
        rows = regressionByGroup(oof.map((o) => o.target), oof.map((o) => o.pred), grouping);
        // Grouped by the target itself (age by age group): which group each prediction lands in.
        if (grouping.edges && values.every((v, i) => v !== undefined && Math.abs(Number(v) - oof[i].target) < 1e-9)) {
          confusion = { labels: grouping.labels, counts: binnedConfusion(oof.map((o) => o.target), oof.map((o) => o.pred), grouping.edges) };
        }
      }
    }
    const header = task === 'binary' ? ['group', 'n', 'AUC [95% CI, DeLong]', 'accuracy [95% CI, Wilson]'] : task === 'multiclass' ? ['group', 'n', 'accuracy [95% CI, Wilson]'] : ['group', 'n', 'MAE [95% CI, t]', 'RMSE [95% CI, t]'];
    const cells = rows.map((g) => [g.group, String(g.n), ...(task === 'binary' ? [cell(g.auc), cell(g.accuracy)] : task === 'multiclass' ? [cell(g.accuracy)] : [cell(g.mae), cell(g.rmse)])]);
    html.push(htmlTable(header, cells));
    md.push(...mdTable(header, cells), '');
    const metric = task === 'binary' ? 'auc' : task === 'multiclass' ? 'accuracy' : 'mae';
    html.push(`<div class="chart">${await toSvg(bars(rows, metric, `${title}: ${metric} per group`, r.by))}</div>`);
    if (task === 'binary') html.push(`<div class="chart">${await toSvg(bars(rows, 'accuracy', `${title}: accuracy per group`, r.by))}</div>`);
    if (confusion) {
      const head = ['true \\ predicted', ...confusion.labels];
      const lines = confusion.counts.map((row, i) => [confusion!.labels[i], ...row.map(String)]);
      html.push(htmlTable(head, lines, `${r.by} binned: true group x predicted group`));
      md.push(`${r.by} binned, true group x predicted group:`, '', ...mdTable(head, lines), '');
    }
  }
  return { html, md };
}
