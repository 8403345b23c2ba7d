import type { TopLevelSpec } from 'vega-lite';
import type { PlotDefinition } from '../spec/model.js';
import { toSvg } from '../ui/svg-chart.js';
import { readPlotData, type Row } from './plot-data.js';

/** One plot's Vega-Lite spec: its files' rows, one series per file and field, drawn as its template says. */
export function plotSpec(plot: PlotDefinition, projectDir: string): TopLevelSpec {
  const values: Row[] = [];
  let xTitle = plot.x_label ?? plot.x ?? 'step';
  let yTitle = plot.y_label;
  for (const [file, named] of Object.entries(plot.y)) {
    const rows = readPlotData(file, projectDir);
    const fields = named.length ? named : [Object.keys(rows[0] ?? {}).at(-1) ?? 'value'];
    yTitle ??= fields.join(', ');
    for (const field of fields) {
      rows.forEach((row, index) => values.push({ x: plot.x !== undefined ? row[plot.x] : index, y: row[field], series: `${file}: ${field}` }));
    }
  }
  const series = new Set(values.map((v) => v.series)).size;
  const color = series > 1 ? { color: { field: 'series', type: 'nominal', title: null } } : {};
  const base = { title: plot.title ?? plot.id, width: 420, height: 240, data: { values } };
  switch (plot.template) {
    case 'confusion':
    case 'confusion_normalized':
      xTitle = plot.x_label ?? plot.x ?? 'actual';
      return {
        ...base,
        mark: 'rect',
        encoding: {
          x: { field: 'x', type: 'nominal', title: xTitle },
          y: { field: 'y', type: 'nominal', title: yTitle ?? 'predicted' },
          color: { aggregate: 'count', type: 'quantitative', title: 'count' },
        },
      } as TopLevelSpec;
    case 'bar_horizontal':
    case 'bar_horizontal_sorted':
      return { ...base, mark: 'bar', encoding: { y: { field: 'x', type: 'nominal', title: xTitle, ...(plot.template.endsWith('sorted') ? { sort: '-x' } : {}) }, x: { field: 'y', type: 'quantitative', title: yTitle }, ...color } } as TopLevelSpec;
    case 'scatter':
    case 'scatter_jitter':
      return { ...base, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative', title: xTitle }, y: { field: 'y', type: 'quantitative', title: yTitle }, ...color } } as TopLevelSpec;
    default:
      return { ...base, mark: { type: 'line', point: values.length <= 50 }, encoding: { x: { field: 'x', type: 'quantitative', title: xTitle }, y: { field: 'y', type: 'quantitative', title: yTitle, scale: { zero: false } }, ...color } } as TopLevelSpec;
  }
}

/** Every plot on one self-contained HTML page (inline SVG, no scripts), as `dvc plots show` writes dvc_plots/index.html. */
export async function plotPage(plots: PlotDefinition[], projectDir: string): Promise<string> {
  const sections: string[] = [];
  for (const plot of plots) sections.push(`<section id="${escape(plot.id)}">${await toSvg(plotSpec(plot, projectDir))}</section>`);
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><title>plots</title>',
    '<style>body{font-family:sans-serif;margin:2em}section{display:inline-block;vertical-align:top;margin:0 2em 2em 0}</style>',
    '</head><body>',
    ...sections,
    '</body></html>',
    '',
  ].join('\n');
}

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
