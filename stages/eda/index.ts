import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import PQueue from 'p-queue';
import sharp from 'sharp';
import { assignBins, quantileEdges } from '../metrics/bins.js';
import { rocAuc } from '../metrics/metrics.js';
import { datasetSummary, datasetTask } from '../runtime/dataset-task.js';
import { readDataset, samplePath, type Sample } from '../runtime/manifest.js';
import type { BuiltinStage } from '../runtime/stage.js';
import { declaration } from './declaration.js';

interface ImageFacts {
  sample: Sample;
  width: number;
  height: number;
  mean: number[];
  std: number[];
  sha256: string;
}

const THUMB = 64;

function summarize(values: number[]): { min: number; max: number; mean: number } {
  return { min: Math.min(...values), max: Math.max(...values), mean: values.reduce((a, b) => a + b, 0) / values.length };
}

/**
 * What a researcher checks before training: counts, geometry per class (and whether it alone
 * separates the classes: a shortcut), colour statistics per source, unreadable files, exact
 * duplicates, and a sample grid per source.
 */
/** Per-channel mean and sample standard deviation (n - 1, as libvips' stats) of 8-bit pixels, scaled to [0, 1]. */
function channelStats(data: Buffer, channels: number, stride: number): { mean: number[]; std: number[] } {
  const n = data.length / stride;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    let squares = 0;
    for (let i = c; i < data.length; i += stride) {
      sum += data[i]!;
      squares += data[i]! * data[i]!;
    }
    mean.push(sum / n / 255);
    std.push(n > 1 ? Math.sqrt(Math.max(0, (squares - (sum * sum) / n) / (n - 1))) / 255 : 0);
  }
  return { mean, std };
}

export const eda: BuiltinStage = {
  declaration,
  async run(ctx) {
    const dataDir = ctx.inputs.dataset;
    const out = ctx.outputs.eda;
    const samples = readDataset(dataDir);
    // Eight images at a time: one at a time leaves libvips' threads idle between tiny images.
    const queue = new PQueue({ concurrency: 8 });
    let done = 0;
    const read = await Promise.all(
      samples.map((sample) =>
        queue.add(async (): Promise<ImageFacts | undefined> => {
          try {
            const bytes = readFileSync(samplePath(dataDir, sample));
            // Decoded once and summed here: sharp's stats() costs ~15x the decode on a small image.
            const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
            const { mean, std } = channelStats(data, Math.min(3, info.channels), info.channels);
            return { sample, width: info.width, height: info.height, mean, std, sha256: createHash('sha256').update(bytes).digest('hex') };
          } catch {
            return undefined;
          } finally {
            if (done++ % 50 === 0) ctx.progress({ images: `${done}/${samples.length}` });
          }
        }),
      ),
    );
    const facts = read.filter((f): f is ImageFacts => f !== undefined);
    const unreadable = samples.filter((_, i) => read[i] === undefined).map((s) => s.path);
    const count = (key: (s: Sample) => string) => facts.reduce<Record<string, number>>((acc, f) => ((acc[key(f.sample)] = (acc[key(f.sample)] ?? 0) + 1), acc), {});
    const { names, labelName } = labelGroups(dataDir, samples);
    const geometry = Object.fromEntries(
      names.map((name) => {
        const of = facts.filter((f) => labelName(f.sample.label) === name);
        return [name, { width: summarize(of.map((f) => f.width)), height: summarize(of.map((f) => f.height)), aspect: summarize(of.map((f) => f.width / f.height)) }];
      }),
    );
    // How well does the aspect ratio alone tell a class from the rest? 0.5 = not at all, 1.0 = perfectly (the best class, one-vs-rest).
    const separation = names.map((name) => {
      const auc = rocAuc(facts.map((f) => (labelName(f.sample.label) === name ? 1 : 0)), facts.map((f) => f.width / f.height));
      return { name, separability: Number.isNaN(auc) ? 0.5 : Math.max(auc, 1 - auc) };
    });
    const best = separation.reduce((a, b) => (b.separability > a.separability ? b : a), separation[0]);
    const separability = best.separability;
    const aspects = names.map((n) => `${n} ${geometry[n].aspect.mean.toFixed(2)}`).join(' vs ');
    const shortcut = {
      aspect_ratio_auc: separability,
      risk: separability >= 0.9,
      finding:
        separability >= 0.9
          ? `image geometry alone separates the classes (aspect-ratio AUC ${separability.toFixed(3)}: ${aspects}); a model can learn the shape instead of the face`
          : `geometry does not separate the classes (aspect-ratio AUC ${separability.toFixed(3)})`,
    };
    const colour = Object.fromEntries(
      [...new Set(facts.map((f) => f.sample.source))].sort().map((source) => {
        const of = facts.filter((f) => f.sample.source === source);
        return [source, { mean: [0, 1, 2].map((c) => of.reduce((a, f) => a + f.mean[c], 0) / of.length), std: [0, 1, 2].map((c) => of.reduce((a, f) => a + f.std[c], 0) / of.length) }];
      }),
    );
    const byHash = new Map<string, string[]>();
    for (const f of facts) byHash.set(f.sha256, [...(byHash.get(f.sha256) ?? []), f.sample.path]);
    const duplicates = [...byHash.values()].filter((paths) => paths.length > 1);

    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const grids: Record<string, string> = {};
    for (const source of Object.keys(colour)) {
      const pick = facts.filter((f) => f.sample.source === source).slice(0, 8);
      const tiles = await Promise.all(pick.map((f) => sharp(samplePath(dataDir, f.sample)).resize(THUMB, THUMB, { fit: 'contain', background: '#ffffff' }).png().toBuffer()));
      const file = `grid_${source}.png`;
      await sharp({ create: { width: THUMB * Math.max(1, tiles.length), height: THUMB, channels: 3, background: '#ffffff' } })
        .composite(tiles.map((input, i) => ({ input, left: i * THUMB, top: 0 })))
        .png()
        .toFile(path.join(out, file));
      grids[source] = file;
    }
    const report = {
      images: facts.length,
      counts: { by_label: count((s) => labelName(s.label)), by_source: count((s) => s.source), by_label_source: count((s) => `${labelName(s.label)}/${s.source}`) },
      groups: new Set(facts.map((f) => f.sample.group)).size,
      geometry,
      shortcut,
      colour_by_source: colour,
      unreadable,
      duplicates,
      grids,
      aspect_by_label: facts.map((f) => ({ label: labelName(f.sample.label), source: f.sample.source, aspect: +(f.width / f.height).toFixed(4) })),
    };
    writeFileSync(path.join(out, 'eda.json'), JSON.stringify(report, null, 1) + '\n');
    ctx.log(`eda: ${facts.length} images; ${shortcut.finding}`);
  },
};

/**
 * How the EDA groups images: the class names of a binary or multi-class dataset (its
 * dataset.json's, else real/fake), or the quartiles of a regression target.
 */
function labelGroups(dataDir: string, samples: readonly Sample[]): { names: string[]; labelName: (label: number) => string } {
  const task = datasetTask(dataDir, samples);
  if (task === 'regression') {
    const edges = quantileEdges(samples.map((s) => s.label), 4);
    const names = Array.from({ length: edges.length + 1 }, (_, i) => (i === 0 ? `target ≤ ${edges[0]}` : i === edges.length ? `target > ${edges[i - 1]}` : `target ${edges[i - 1]}-${edges[i]}`));
    return { names, labelName: (label) => names[assignBins([label], edges)[0]] };
  }
  const classes = datasetSummary(dataDir).classes;
  const count = Math.max(1, ...samples.map((s) => s.label)) + 1;
  const names = Array.from({ length: count }, (_, k) => classes?.find((c) => c.label === k)?.name ?? (task === 'binary' ? (k === 0 ? 'real' : 'fake') : `class ${k}`));
  return { names, labelName: (label) => names[label] };
}
