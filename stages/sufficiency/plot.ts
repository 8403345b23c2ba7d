import type { TopLevelSpec } from 'vega-lite';
import { powerLaw } from './fit.js';
import type { SufficiencyFile } from './index.js';

/** Fold results as points, the fitted law from the smallest size to the largest projection, and each model's asymptote dashed. */
export function sufficiencyChart(file: SufficiencyFile): TopLevelSpec {
  const points = file.curves.flatMap((c) => c.points.map((p) => ({ model: c.model, n: p.n, value: p.value })));
  const fit = file.curves.flatMap((c) => {
    const lo = Math.log(c.points[0].n);
    const hi = Math.log(Math.max(c.points[c.points.length - 1].n, ...c.projection.map((p) => p.n)));
    return Array.from({ length: 60 }, (_, i) => {
      const n = Math.exp(lo + ((hi - lo) * i) / 59);
      return { model: c.model, n, value: 1 - powerLaw(c.params, n) };
    });
  });
  const asymptotes = file.curves.map((c) => ({ model: c.model, value: 1 - c.params.c0 }));
  const color = { field: 'model', type: 'nominal' };
  const y = { field: 'value', type: 'quantitative', title: `${file.metric} (validation, per fold)`, scale: { zero: false } };
  return {
    title: `Sufficiency: ${file.metric} against training-set size (fit 1 - (c n^-m + c0), dashed: asymptote)`,
    width: 420,
    height: 240,
    layer: [
      { data: { values: fit }, mark: { type: 'line' }, encoding: { x: { field: 'n', type: 'quantitative', scale: { type: 'log' }, title: 'training images (log)' }, y, color } },
      { data: { values: points }, mark: { type: 'point', filled: true, opacity: 0.7 }, encoding: { x: { field: 'n', type: 'quantitative' }, y: { field: 'value', type: 'quantitative' }, color } },
      { data: { values: asymptotes }, mark: { type: 'rule', strokeDash: [4, 3] }, encoding: { y: { field: 'value', type: 'quantitative' }, color } },
    ],
  } as TopLevelSpec;
}
