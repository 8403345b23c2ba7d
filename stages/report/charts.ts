import type { TopLevelSpec } from 'vega-lite';

export { toSvg } from '../../src/ui/svg-chart.js';

type Row = Record<string, string | number>;

export function aucBars(rows: Row[], title: string): TopLevelSpec {
  return {
    title,
    width: 360,
    height: { step: 18 },
    data: { values: rows },
    layer: [
      { mark: { type: 'bar', color: '#4c78a8', clip: true }, encoding: { y: { field: 'experiment', type: 'nominal', sort: null, title: null, axis: { labelLimit: 240 } }, x: { field: 'auc', type: 'quantitative', scale: { domain: [0.4, 1] }, title: 'ROC AUC (mean over folds, 95% CI)' } } },
      { mark: { type: 'rule', color: 'black', clip: true }, encoding: { y: { field: 'experiment', type: 'nominal', sort: null }, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
    ],
  } as TopLevelSpec;
}

/** One small panel per experiment (training solid, validation dashed): readable at 2 experiments or 20. */
export function learningCurves(rows: Row[], title: string): TopLevelSpec {
  return {
    title,
    data: { values: rows },
    facet: { field: 'experiment', type: 'nominal', title: null, header: { labelLimit: 160 } },
    columns: 4,
    spec: {
      width: 150,
      height: 90,
      mark: { type: 'line', point: { size: 12 } },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
        y: { field: 'value', type: 'quantitative', title: 'AUC (fold mean)', scale: { zero: false } },
        color: { field: 'split', type: 'nominal', title: 'set', scale: { range: ['#4c78a8', '#f58518'] } },
        strokeDash: { field: 'split', type: 'nominal', title: 'set' },
      },
    },
  } as TopLevelSpec;
}

/** One panel per fake source, experiments on the y axis: no 14-colour legend to decode. */
export function perSourceBars(rows: Row[], title: string): TopLevelSpec {
  return {
    title,
    data: { values: rows },
    facet: { field: 'source', type: 'nominal', title: 'real vs fake source' },
    spec: {
      width: 140,
      height: { step: 14 },
      mark: { type: 'bar', clip: true, color: '#4c78a8' },
      encoding: {
        y: { field: 'experiment', type: 'nominal', sort: null, title: null, axis: { labelLimit: 200 } },
        x: { field: 'auc', type: 'quantitative', scale: { domain: [0.4, 1] }, title: 'AUC' },
      },
    },
  } as TopLevelSpec;
}

export function scalingCurves(rows: Row[], title: string): TopLevelSpec {
  return {
    title,
    width: 300,
    height: 200,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'fraction', type: 'quantitative', title: 'fraction of training data', scale: { type: 'log' } },
      y: { field: 'auc', type: 'quantitative', title: 'AUC', scale: { zero: false } },
      color: { field: 'model', type: 'nominal' },
      strokeDash: { field: 'source', type: 'nominal' },
    },
  } as TopLevelSpec;
}

/** Pooled out-of-fold ROC, one small panel per experiment. */
export function rocCurves(rows: Row[], title: string): TopLevelSpec {
  return {
    title,
    data: { values: rows },
    facet: { field: 'experiment', type: 'nominal', title: null, header: { labelLimit: 160 } },
    columns: 5,
    spec: {
      width: 110,
      height: 110,
      mark: { type: 'line', color: '#4c78a8' },
      encoding: {
        x: { field: 'fpr', type: 'quantitative', title: 'FPR' },
        y: { field: 'tpr', type: 'quantitative', title: 'TPR' },
        order: { field: 'order', type: 'quantitative' },
      },
    },
  } as TopLevelSpec;
}

export function aspectStrip(rows: Row[]): TopLevelSpec {
  return {
    title: 'Aspect ratio (width / height) by class',
    width: 300,
    height: 80,
    data: { values: rows },
    mark: { type: 'tick' },
    encoding: { x: { field: 'aspect', type: 'quantitative', scale: { zero: false } }, y: { field: 'label', type: 'nominal', title: null }, color: { field: 'label', type: 'nominal' } },
  } as TopLevelSpec;
}
