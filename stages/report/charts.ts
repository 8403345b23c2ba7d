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

export function learningCurves(rows: Row[], title: string): TopLevelSpec {
  return {
    title,
    width: 360,
    height: 200,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      y: { field: 'value', type: 'quantitative', title: 'AUC (mean over folds)', scale: { zero: false } },
      color: { field: 'experiment', type: 'nominal' },
      strokeDash: { field: 'split', type: 'nominal', title: 'set' },
    },
  } as TopLevelSpec;
}

export function perSourceBars(rows: Row[], title: string): TopLevelSpec {
  return {
    title,
    width: { step: 14 },
    height: 180,
    data: { values: rows },
    mark: { type: 'bar', clip: true },
    encoding: {
      x: { field: 'source', type: 'nominal', title: null },
      xOffset: { field: 'experiment', type: 'nominal' },
      y: { field: 'auc', type: 'quantitative', scale: { domain: [0.4, 1] }, title: 'AUC real vs source' },
      color: { field: 'experiment', type: 'nominal' },
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

export function rocCurves(rows: Row[], title: string): TopLevelSpec {
  return {
    title,
    width: 260,
    height: 260,
    data: { values: rows },
    mark: { type: 'line' },
    encoding: {
      x: { field: 'fpr', type: 'quantitative', title: 'false positive rate' },
      y: { field: 'tpr', type: 'quantitative', title: 'true positive rate' },
      color: { field: 'experiment', type: 'nominal' },
      order: { field: 'order', type: 'quantitative' },
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
