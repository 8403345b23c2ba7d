import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { esc, htmlTable, mdTable } from './html.js';

type ByRule = Record<string, { images: number; by_class: Record<string, number>; by_source: Record<string, number> }>;

/**
 * What the images stage's `exclude:` rules removed (dataset.json's excluded_by_rule), per rule,
 * class and source: excluding what a model would fail on changes the question, so the report
 * makes it visible.
 */
export function exclusionSection(dataDir: string | undefined): { html: string[]; md: string[] } {
  const file = dataDir ? path.join(dataDir, 'dataset.json') : undefined;
  const byRule = file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { excluded_by_rule?: ByRule }).excluded_by_rule : undefined;
  if (!byRule || Object.keys(byRule).length === 0) return { html: [], md: [] };
  const counts = (m: Record<string, number>) => Object.entries(m).sort().map(([k, v]) => `${k}: ${v}`).join(', ') || '—';
  const rows = Object.entries(byRule).map(([rule, c]) => [rule, String(c.images), counts(c.by_class), counts(c.by_source)]);
  const header = ['rule', 'images excluded', 'per class', 'per source'];
  const note = 'These images were left out by rule before any split or training (excluded.csv lists each with its value). Excluding images a model would find hard makes every metric here one of the images that pass the rules, not of everything the source produces: compare the per-class and per-source counts before reading a difference between sources.';
  return {
    html: ['<h3>Excluded by rule</h3>', htmlTable(header, rows), `<p class="warn">${esc(note)}</p>`],
    md: ['### Excluded by rule', '', ...mdTable(header, rows), '', `> ${note}`, ''],
  };
}
