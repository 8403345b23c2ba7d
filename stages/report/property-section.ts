import type { TopLevelSpec } from 'vega-lite';
import { toSvg } from '../../src/ui/svg-chart.js';
import { assignBins, binStats, quantileEdges, type BinStats } from '../metrics/bins.js';
import { PROPERTY_COLUMNS, readProperties, samplePath } from '../runtime/manifest.js';
import { hardestErrors, imageTag, type OofRow } from './run-files.js';
import { esc, htmlTable, mdTable } from './html.js';

const f3 = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(3));
const withCi = (s: { value: number; lo: number; hi: number }) => (Number.isNaN(s.value) ? 'n/a (one class)' : Number.isNaN(s.lo) ? f3(s.value) : `${f3(s.value)} [${f3(s.lo)}, ${f3(s.hi)}]`);

export interface PropertyBin extends BinStats {
  property: string;
  bin: string;
  /** The bin's misclassified images, most confidently wrong first. */
  hardest: OofRow[];
}

export interface PropertyOptions {
  /** Equal-count bins per property (default 4). */
  bins?: number;
  /** Inner edges for a property instead of quantiles, e.g. { luminance: [0.3, 0.5] }. */
  edges?: Record<string, number[]>;
}

const label = (edges: readonly number[], i: number, digits: number) => {
  const fmt = (v: number) => v.toFixed(digits);
  if (edges.length === 0) return 'all';
  if (i === 0) return `≤ ${fmt(edges[0])}`;
  if (i === edges.length) return `> ${fmt(edges[edges.length - 1])}`;
  return `(${fmt(edges[i - 1])}, ${fmt(edges[i])}]`;
};

/**
 * Out-of-fold predictions broken down by each image property the dataset's manifest records
 * (quantile bins, or the edges given) and by source: n, AUC, accuracy and log loss per bin with
 * 95% intervals, and each bin's hardest errors.
 */
export function propertyBins(oof: readonly OofRow[], dataDir: string, options: PropertyOptions = {}): PropertyBin[] {
  const properties = readProperties(dataDir);
  const out: PropertyBin[] = [];
  const add = (property: string, rows: OofRow[], name: string) => {
    const stats = binStats(rows.map((r) => r.label), rows.map((r) => r.prob), rows.map((r) => r.pred));
    const hardest = hardestErrors(rows, 3);
    out.push({ property, bin: name, ...stats, hardest });
  };
  for (const property of PROPERTY_COLUMNS) {
    const known = oof.filter((r) => properties.get(r.id)?.[property] !== undefined);
    if (known.length < oof.length || known.length === 0) continue;
    const values = known.map((r) => properties.get(r.id)![property]!);
    if (new Set(values).size < 2) continue;
    const given = options.edges?.[property];
    const edges = given ? [...given].sort((a, b) => a - b) : quantileEdges(values, options.bins ?? 4);
    const bins = assignBins(values, edges);
    const digits = Math.max(...values.map(Math.abs)) >= 100 ? 0 : Math.max(...values.map(Math.abs)) >= 10 ? 1 : 3;
    for (let b = 0; b <= edges.length; b++) {
      const rows = known.filter((_, i) => bins[i] === b);
      if (rows.length) add(property, rows, label(edges, b, digits));
    }
  }
  for (const source of [...new Set(oof.map((r) => r.source))].sort()) add('source', oof.filter((r) => r.source === source), source);
  return out;
}

function binBars(bins: PropertyBin[]): TopLevelSpec {
  const rows = bins.map((b) => ({ property: b.property, bin: `${b.bin} (n=${b.n})`, accuracy: b.accuracy.value, lo: b.accuracy.lo, hi: b.accuracy.hi }));
  return {
    title: 'Accuracy per bin of each image property (95% Wilson interval)',
    data: { values: rows },
    facet: { field: 'property', type: 'nominal', title: null },
    columns: 3,
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 160,
      height: { step: 14 },
      layer: [
        { mark: { type: 'bar', color: '#4c78a8' }, encoding: { y: { field: 'bin', type: 'nominal', sort: null, title: null, axis: { labelLimit: 150 } }, x: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, title: 'accuracy' } } },
        { mark: { type: 'rule', color: 'black' }, encoding: { y: { field: 'bin', type: 'nominal', sort: null }, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
      ],
    },
  } as TopLevelSpec;
}

/** Histograms of P(positive) for each true class: where the model is confident, and where it is not. */
function confidenceHistogram(oof: readonly OofRow[], names: { negative: string; positive: string }): TopLevelSpec {
  return {
    title: `Predicted P(${names.positive}) by true class (out-of-fold)`,
    width: 320,
    height: 140,
    data: { values: oof.map((r) => ({ prob: r.prob, class: r.label === 1 ? names.positive : names.negative })) },
    mark: { type: 'bar', opacity: 0.6 },
    encoding: {
      x: { field: 'prob', type: 'quantitative', bin: { extent: [0, 1], step: 0.05 }, title: `P(${names.positive})` },
      y: { aggregate: 'count', type: 'quantitative', stack: null, title: 'images' },
      color: { field: 'class', type: 'nominal', title: 'true class' },
    },
  } as TopLevelSpec;
}

/** The report's "Errors by image property" section for one experiment. */
export async function propertySection(experiment: string, oof: readonly OofRow[], dataDir: string, names: { negative: string; positive: string }, options: PropertyOptions): Promise<{ html: string[]; md: string[] }> {
  const bins = propertyBins(oof, dataDir, options);
  if (bins.length === 0) return { html: [], md: [] };
  const header = ['property', 'bin', 'n', 'AUC [95% CI]', 'accuracy [95% CI]', 'log loss [95% CI]'];
  const rows = bins.map((b) => [b.property, b.bin, String(b.n), withCi(b.auc), withCi(b.accuracy), withCi(b.log_loss)]);
  const note = `Out-of-fold predictions of ${experiment}, binned by each property the dataset records (${options.edges ? 'given edges where set, else ' : ''}equal-count bins) and by source. Intervals: AUC by DeLong's variance on the logit scale, accuracy by Wilson's score interval, log loss by a t interval over images. Accuracy uses each fold's own threshold.`;
  const html = [`<h2>Errors by image property (${esc(experiment)})</h2>`, `<p>${esc(note)}</p>`];
  html.push(htmlTable(header, rows));
  html.push(`<div class="chart">${await toSvg(binBars(bins))}</div>`);
  html.push(`<div class="chart">${await toSvg(confidenceHistogram(oof, names))}</div>`);
  html.push('<h3>Hardest errors per bin</h3>');
  for (const property of [...new Set(bins.map((b) => b.property))]) {
    html.push(`<p><b>${esc(property)}</b></p><div class="grid">`);
    for (const b of bins.filter((x) => x.property === property)) {
      for (const e of b.hardest.slice(0, 2)) html.push(await imageTag(samplePath(dataDir, { path: e.id }), `${b.bin}: ${e.label ? names.positive : names.negative}, p=${e.prob.toFixed(2)}`));
    }
    html.push('</div>');
  }
  return { html, md: [`## Errors by image property (${experiment})`, '', note, '', ...mdTable(header, rows), ''] };
}
