import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FoldMetrics } from '../runtime/run-folder.js';
import { esc } from './html.js';

/**
 * What each experiment's model costs (the age/gender study's model table): parameters, the
 * size of its saved weights, multiply-adds per image at its input size. From fold 0's
 * metrics.json, as the trainer counted them; experiments whose trainer does not count them
 * (the pixel probe) are left out.
 */
export function costSection(experiments: readonly string[], runsRoot: string): { html: string[]; md: string[] } {
  const rows = experiments.flatMap((name) => {
    const dir = path.join(runsRoot, name);
    if (!existsSync(dir)) return [];
    const fold = readdirSync(dir).sort().find((f) => existsSync(path.join(dir, f, 'metrics.json')));
    if (!fold) return [];
    const metrics = JSON.parse(readFileSync(path.join(dir, fold, 'metrics.json'), 'utf8')) as Partial<FoldMetrics>;
    if (metrics.flops === undefined || metrics.weights_bytes === undefined) return [];
    return [[name, (metrics.parameters ?? 0).toLocaleString('en-US'), (metrics.weights_bytes / 1e6).toFixed(2), (metrics.flops / 1e6).toFixed(metrics.flops < 1e7 ? 2 : 0)]];
  });
  if (rows.length === 0) return { html: [], md: [] };
  const header = ['experiment', 'parameters', 'weights (MB)', 'MFLOPs / image'];
  const note = 'FLOPs as torchvision and fvcore count them: multiply-adds of the convolutions and dense layers, at the experiment\'s input size. Weights: the float32 weights.bin a run saves.';
  return {
    html: [
      '<h2>What each model costs</h2>',
      `<table><tr>${header.map((h) => `<th>${h}</th>`).join('')}</tr>`,
      ...rows.map((cells) => `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`),
      '</table>',
      `<p class="methods">${esc(note)}</p>`,
    ],
    md: ['## What each model costs', '', `| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((cells) => `| ${cells.join(' | ')} |`), '', note, ''],
  };
}
