import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { toSvg } from '../../src/ui/svg-chart.js';
import type { FoldMetrics } from '../runtime/run-folder.js';
import type { StudyInfo } from '../runtime/study.js';
import { PRIMARY, type Task } from '../runtime/dataset-task.js';

interface Cell {
  experiment: string;
  width: number;
  fraction: number;
  val_metric: number;
  train_metric: number;
  val_loss: number;
  train_loss: number;
}

const average = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** A fold's metrics.json of any task: the headline metric and the loss are looked up by name. */
type AnyFold = Omit<FoldMetrics, 'val' | 'train'> & { task?: Task; val: Record<string, number>; train: Record<string, number> };

function folds(runsDir: string): AnyFold[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .sort()
    .map((d) => path.join(runsDir, d, 'metrics.json'))
    .filter((f) => existsSync(f))
    .map((f) => JSON.parse(readFileSync(f, 'utf8')) as AnyFold);
}

function heatmap(cells: Cell[], field: keyof Cell, title: string, scheme: string): TopLevelSpec {
  const x = { field: 'fraction', type: 'ordinal', title: 'data fraction' };
  const y = { field: 'width', type: 'ordinal', title: 'model width', sort: 'descending' };
  return {
    title,
    width: 150,
    height: 120,
    data: { values: cells },
    layer: [
      { mark: 'rect', encoding: { x, y, color: { field, type: 'quantitative', scale: { scheme }, legend: null } } },
      { mark: { type: 'text', fontSize: 11 }, encoding: { x, y, text: { field, type: 'quantitative', format: '.3f' } } },
    ],
  } as TopLevelSpec;
}

/** Validation loss against compute (parameters x images seen), one point per fold, a line per width. */
function computeChart(points: { width: number; compute: number; val_loss: number }[], lossName: string): TopLevelSpec {
  return {
    title: `Compute (parameters x training images seen) against validation ${lossName}`,
    width: 360,
    height: 200,
    data: { values: points },
    layer: [
      { mark: { type: 'point', filled: true, opacity: 0.6 }, encoding: { x: { field: 'compute', type: 'quantitative', scale: { type: 'log' }, title: 'parameters x images seen (log)' }, y: { field: 'val_loss', type: 'quantitative', title: `validation ${lossName}`, scale: { zero: false } }, color: { field: 'width', type: 'ordinal', title: 'width' } } },
      { mark: 'line', encoding: { x: { aggregate: 'mean', field: 'compute', type: 'quantitative' }, y: { aggregate: 'mean', field: 'val_loss', type: 'quantitative' }, color: { field: 'width', type: 'ordinal' }, detail: { field: 'fraction', type: 'ordinal' } } },
    ],
  } as TopLevelSpec;
}

/**
 * A sweep phase's heatmaps: AUC and log loss, validation and training, over the width x data
 * grid (means over folds), and compute against validation loss.
 */
export async function sweepSection(members: readonly StudyInfo[], runsRoot: string): Promise<string[]> {
  const swept = members.filter((s) => s.sweep && s.width !== undefined && s.fraction !== undefined);
  const cells: Cell[] = [];
  const compute: { width: number; fraction: number; compute: number; val_loss: number }[] = [];
  let primary = PRIMARY.binary;
  for (const s of swept) {
    const runs = folds(path.join(runsRoot, s.name));
    if (runs.length === 0) continue;
    primary = PRIMARY[runs[0].task ?? 'binary'];
    const { metric, loss } = primary;
    cells.push({
      experiment: s.name,
      width: s.width!,
      fraction: s.fraction!,
      val_metric: average(runs.map((r) => r.val[metric])),
      train_metric: average(runs.map((r) => r.train[metric])),
      val_loss: average(runs.map((r) => r.val[loss])),
      train_loss: average(runs.map((r) => r.train[loss])),
    });
    for (const r of runs) if (r.parameters && r.images_seen) compute.push({ width: s.width!, fraction: s.fraction!, compute: r.parameters * r.images_seen, val_loss: r.val[loss] });
  }
  if (cells.length === 0) return [];
  const html = ['<h3>Width x data sweep (means over folds)</h3><div class="grid">'];
  html.push(`<div class="chart">${await toSvg(heatmap(cells, 'val_metric', `${primary.name}, validation`, 'blues'))}</div>`);
  html.push(`<div class="chart">${await toSvg(heatmap(cells, 'train_metric', `${primary.name}, training`, 'blues'))}</div>`);
  html.push(`<div class="chart">${await toSvg(heatmap(cells, 'val_loss', `${primary.lossName}, validation`, 'oranges'))}</div>`);
  html.push(`<div class="chart">${await toSvg(heatmap(cells, 'train_loss', `${primary.lossName}, training`, 'oranges'))}</div>`);
  html.push('</div>');
  if (compute.length) html.push(`<div class="chart">${await toSvg(computeChart(compute, primary.lossName))}</div>`);
  return html;
}
