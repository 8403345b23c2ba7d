import type { FoldMetrics } from '../runtime/run-folder.js';
import { esc, htmlTable, mdTable } from './html.js';
import { firstFold } from './run-files.js';

/** Every experiment trained with `train.balance`: its training images per group (its first fold's), and per epoch or their weight. */
export function balanceSection(experiments: readonly string[], runsRoot: string): { html: string[]; md: string[] } {
  const rows: string[][] = [];
  for (const name of experiments) {
    const balance = firstFold<FoldMetrics>(runsRoot, name)?.metrics.balance;
    if (!balance) continue;
    for (const g of balance.groups) rows.push([name, `${balance.by} (${balance.method})`, g.group, String(g.n), balance.method === 'oversample' ? String(g.per_epoch) : g.weight.toFixed(3)]);
  }
  if (rows.length === 0) return { html: [], md: [] };
  const header = ['experiment', 'balanced by', 'group', 'training images (first fold)', 'per epoch (oversample) / loss weight'];
  const note = 'Oversampling draws each smaller group up to the largest every epoch from the run\'s own random stream (each copy gets its own augmentation when augmentation is on); weights multiply each image\'s loss by N / (groups x n_group).';
  return {
    html: ['<h2>Rebalanced training</h2>', `<p class="methods">${esc(note)}</p>`, htmlTable(header, rows)],
    md: ['## Rebalanced training', '', note, '', ...mdTable(header, rows), ''],
  };
}
