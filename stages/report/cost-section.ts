import type { FoldMetrics } from '../runtime/run-folder.js';
import { esc } from './html.js';
import { inferenceMs } from './inference-timing.js';
import { firstFold } from './run-files.js';

/**
 * What each experiment's model costs (the age/gender study's model table): parameters, the
 * size of its saved weights, multiply-adds per image at its input size. From fold 0's
 * metrics.json, as the trainer counted them; experiments whose trainer does not count them
 * (the pixel probe) are left out. With `timing` (`inference_ms: true`), also the measured
 * inference time per image of fold 0's saved model on this machine's backend.
 */
export async function costSection(experiments: readonly string[], runsRoot: string, timing?: { backend: string }): Promise<{ html: string[]; md: string[] }> {
  const rows: string[][] = [];
  for (const name of experiments) {
    const first = firstFold<Partial<FoldMetrics>>(runsRoot, name);
    if (!first) continue;
    const { metrics } = first;
    if (metrics.flops === undefined || metrics.weights_bytes === undefined) continue;
    const cells = [name, (metrics.parameters ?? 0).toLocaleString('en-US'), (metrics.weights_bytes / 1e6).toFixed(2), (metrics.flops / 1e6).toFixed(metrics.flops < 1e7 ? 2 : 0)];
    if (timing) cells.push((await inferenceMs(first.dir))?.toFixed(1) ?? '—');
    rows.push(cells);
  }
  if (rows.length === 0) return { html: [], md: [] };
  const header = ['experiment', 'parameters', 'weights (MB)', 'MFLOPs / image', ...(timing ? [`inference ms / image (${timing.backend}, batch 1)`] : [])];
  const note = `FLOPs as torchvision and fvcore count them: multiply-adds of the convolutions and dense layers, at the experiment's input size. Weights: the float32 weights.bin a run saves.${timing ? ' Inference: the median of 7 timed predictions of fold 0\'s saved model after a warm-up, on the machine that ran the report (a measurement: a rerun gives other numbers).' : ''}`;
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
