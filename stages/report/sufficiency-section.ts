import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SufficiencyFile } from '../sufficiency/index.js';
import { esc } from './html.js';


/** The report's "Data sufficiency" section from a `sufficiency` stage's folder: the fit per model, projections, and the n each target needs. */
export function sufficiencySection(dir: string | undefined): { html: string[]; md: string[] } {
  const file = dir ? path.join(dir, 'sufficiency.json') : '';
  if (!dir || !existsSync(file)) return { html: [], md: [] };
  const s = JSON.parse(readFileSync(file, 'utf8')) as SufficiencyFile;
  const metric = s.metric;
  const projected = [...new Set(s.curves.flatMap((c) => c.projection.map((p) => p.n)))];
  const targets = [...new Set(s.curves.flatMap((c) => c.inverse.map((i) => i.target)))];
  const header = ['model', 'fit: 1 - (c·n^-m + c0)', `asymptote (${metric})`, ...projected.map((n) => `${metric} at n=${n}`), ...targets.map((t) => `n for ${metric} ${t}`)];
  const rows = s.curves.map((c) => [
    c.model,
    `c=${c.params.c.toFixed(3)}, m=${c.params.m.toFixed(3)}, c0=${c.params.c0.toFixed(4)}`,
    (1 - c.params.c0).toFixed(3),
    ...projected.map((n) => c.projection.find((p) => p.n === n)?.value.toFixed(3) ?? ''),
    ...targets.map((t) => {
      const n = c.inverse.find((i) => i.target === t)?.n;
      return n === null || n === undefined ? `unreachable (asymptote ${(1 - c.params.c0).toFixed(3)} < ${t})` : String(n);
    }),
  ]);
  const note =
    `Each point is one fold of one data fraction; the curve is fitted to the error 1 - ${metric} by least squares (m >= 0, 0 <= c0 <= 1). ` +
    'Projections beyond the largest training set are extrapolations of that law; "unreachable" means the fitted asymptote lies below the target, so more of the same data is not expected to get there.';
  const svg = readFileSync(path.join(dir, 'sufficiency.svg'), 'utf8');
  return {
    html: ['<h2>Data sufficiency</h2>', `<p>${esc(note)}</p>`, `<table><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`, ...rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`), '</table>', `<div class="chart">${svg}</div>`],
    md: ['## Data sufficiency', '', note, '', `| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`), ''],
  };
}
