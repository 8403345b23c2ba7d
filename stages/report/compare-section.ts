import { metricChanges, type ComparedResults } from '../metrics/compare.js';
import { esc, htmlTable, mdTable } from './html.js';

/**
 * The pairs `with: { compare: [[v1, v2]] }` names, metric by metric as a study's v1-vs-v2
 * tables read: both means, the change, the relative change, the corrected t-test's p where the
 * folds pair (the same p the phase tables give for AUC).
 */
export function compareSection(pairs: readonly [string, string][], results: (name: string) => ComparedResults | undefined): { html: string[]; md: string[] } {
  const html: string[] = [];
  const md: string[] = [];
  if (pairs.length === 0) return { html, md };
  html.push('<h2>Experiments compared metric by metric</h2>');
  md.push('## Experiments compared metric by metric', '');
  for (const [a, b] of pairs) {
    const [x, y] = [results(a), results(b)];
    html.push(`<h3>${esc(a)} → ${esc(b)}</h3>`);
    md.push(`### ${a} → ${b}`, '');
    if (!x || !y) {
      const missing = [!x ? a : undefined, !y ? b : undefined].filter(Boolean).join(' and ');
      html.push(`<p class="warn">No results for ${esc(missing)}.</p>`);
      md.push(`No results for ${missing}.`, '');
      continue;
    }
    const header = ['metric', a, b, 'change', 'relative', 'p (corrected t)'];
    const rows = metricChanges(x, y).map((c) => [c.metric, c.a.toFixed(4), c.b.toFixed(4), `${c.change >= 0 ? '+' : ''}${c.change.toFixed(4)}`, c.relative === null ? 'n/a' : `${c.relative >= 0 ? '+' : ''}${(100 * c.relative).toFixed(1)}%`, c.test ? `${c.test.p.toFixed(3)} (${c.test.folds} folds)` : 'folds do not pair']);
    html.push(htmlTable(header, rows));
    md.push(...mdTable(header, rows), '');
  }
  html.push('<p class="methods">Change: b − a of the means over folds; relative: the change over |a|. p: Nadeau and Bengio\'s corrected resampled t-test over the shared folds, not adjusted for the number of metrics (they are far from independent).</p>');
  return { html, md };
}
