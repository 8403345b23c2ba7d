import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { meanCi } from '../metrics/stats.js';
import { decodeImage } from '../runtime/decoded-shards.js';
import { openFold, type FoldDataParams } from '../runtime/fold-data.js';
import { samplePath, type Sample } from '../runtime/manifest.js';
import { StageError, type BuiltinStage } from '../runtime/stage.js';
import type { Task } from '../runtime/dataset-task.js';
import { initBackend } from '../train/backend.js';
import { backboneOf } from '../train/backbones.js';
import { ChannelStats, loadImages } from '../train/data.js';
import { inputSize, normalisationOf, type Normalization } from '../train/input-recipe.js';
import { declaration } from './declaration.js';
import { FaceBoxes } from './face-boxes.js';
import { GradCam, type CamTarget } from './gradcam.js';
import { massShares, renderPair, upsample } from './heatmap.js';
import { gridToMap, occlusionGrid, type Score } from './occlusion.js';
import { openFoldModel, type FoldModel, type Normalisation } from './saved-model.js';
import { byPathHash, foldFolders, selectImages, type Chosen } from './selection.js';

export interface ExplainParams {
  seed?: number;
  task?: Task;
  model?: { arch?: string };
  data?: Partial<FoldDataParams> & { size?: number };
  train?: { normalization?: Normalization };
  probe?: { pixels?: number };
}

interface ExplainOptions {
  experiment?: string;
  method?: 'gradcam' | 'occlusion';
  layer?: string;
  errors: number;
  per_group: number;
  patch?: number;
}

/** One explained image of explanations.json (docs/formats.md). */
export interface Explained {
  path: string;
  fold: number;
  label: number;
  class: string | null;
  predicted: number;
  source: string;
  score: number;
  selection: Chosen['selection'];
  face: 'facecrop' | 'detector' | 'none';
  face_box: number[] | null;
  face_share: number | null;
  border_share: number | null;
  input: string;
  heatmap: string;
  /** The raw map: Grad-CAM at the layer's resolution, or occlusion's drops per patch (rows x cols, row-major). */
  map: { rows: number; cols: number; values: number[] };
  /** Multi-class errors: the true class's map beside the predicted one's. */
  true_class?: { heatmap: string; face_share: number | null; border_share: number | null };
}

/** A share's mean and 95% interval over images (bounds null below two images). */
export interface ShareSummary {
  mean: number | null;
  lo: number | null;
  hi: number | null;
  n: number;
}

/** explanations.json, as the report reads it. */
export interface ExplanationsFile {
  experiment: string;
  task: Task;
  method: 'gradcam' | 'occlusion';
  layer: string | null;
  images: Explained[];
  summary: { face_share: ShareSummary; border_share: ShareSummary; by_source: Record<string, { face_share: ShareSummary; border_share: ShareSummary }>; faces_found: number };
}

const DISPLAY = 96;
const SAMPLE_FOR_MEAN = 64;

/** A mean with its 95% t interval over images, clipped to [0, 1] (shares); null bounds below two images. */
function shareSummary(values: readonly (number | null)[]): ShareSummary {
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0) return { mean: null, lo: null, hi: null, n: 0 };
  if (present.length === 1) return { mean: present[0]!, lo: null, hi: null, n: 1 };
  const ci = meanCi(present);
  return { mean: ci.mean, lo: Math.max(0, ci.lo), hi: Math.min(1, ci.hi), n: ci.n };
}

const round = (v: number | null) => (v === null ? null : +v.toPrecision(6));

/**
 * Explains one experiment: for a reproducible selection of its out-of-fold predictions (the
 * hardest errors, a sample per class x source), each image by the fold model that did not train
 * on it, a Grad-CAM or occlusion heatmap, the share of its positive mass inside the face box and
 * on the image border, and those shares per experiment and per source with 95% intervals.
 */
export const explain: BuiltinStage<ExplainParams> = {
  declaration,
  async run(ctx) {
    const started = performance.now();
    const options = ctx.options as unknown as ExplainOptions;
    const experiment = options.experiment ?? path.basename(ctx.inputs.runs);
    const errorsPer = options.errors ?? 8;
    const perGroup = options.per_group ?? 3;
    const where = `explain ${experiment}`;
    const folds = foldFolders(ctx.inputs.runs, experiment);
    const data: FoldDataParams = { input: 'raw', fraction: 1, eval_geometry: 'same', ...ctx.params.data } as FoldDataParams;
    const arch = ctx.params.model?.arch;
    const pretrained = arch ? backboneOf(arch) : undefined;
    const probePixels = ctx.params.probe?.pixels;
    const size = probePixels ?? inputSize(ctx.params.data?.size, pretrained);
    const first = openFold({ options: { fold: folds[0]!.fold }, inputs: ctx.inputs }, 'explain', data, ctx.params.task);
    const task = first.targets.task;
    const chosen = selectImages(folds, task, errorsPer, perGroup);
    if (chosen.length === 0) throw new StageError(`${where}: the out-of-fold predictions select no image (errors: ${errorsPer}, per_group: ${perGroup})`);
    const backend = await initBackend(process.env.PIPELINE_TF_BACKEND);
    const backendUp = performance.now();
    ctx.log(`${where}: ${chosen.length} image(s) over ${folds.length} fold(s), backend ${backend.backend}`);

    const out = ctx.outputs.explain;
    rmSync(out, { recursive: true, force: true });
    mkdirSync(path.join(out, 'inputs'), { recursive: true });
    mkdirSync(path.join(out, 'heatmaps'), { recursive: true });
    const faces = new FaceBoxes(ctx.inputs.cropped);
    // Occlusion's fill colour, decoded only when a fold is explained by occlusion.
    let fill: number[] = [];
    const patch = options.patch ?? Math.max(1, Math.ceil(size / 8));
    const explained: Explained[] = [];
    let method: 'gradcam' | 'occlusion' | undefined;
    let layerUsed = '';
    let done = 0;
    let mapsSeconds = 0;

    for (const { fold, dir } of folds) {
      const mine = chosen.filter((c) => c.fold === fold);
      if (mine.length === 0) continue;
      const opened = fold === first.fold ? first : openFold({ options: { fold }, inputs: ctx.inputs }, 'explain', data, ctx.params.task);
      const byPath = new Map(opened.valSet.map((s) => [s.path, s]));
      const samples = mine.map((c) => {
        const sample = byPath.get(c.path);
        if (!sample) throw new StageError(`${where}: ${path.join(dir, 'oof.csv')} lists ${c.path}, which the split does not validate on fold ${fold} (runs of another split, or a stale runs folder)`);
        return sample;
      });
      const norm = await normalisation(ctx.params, pretrained, opened.dataDir, opened.trainSet, size);
      const model = await openFoldModel(dir, norm);
      checkModel(model, arch, size, probePixels, dir, where);
      const foldMethod = options.method ?? (model.kind === 'layers' ? 'gradcam' : 'occlusion');
      if (foldMethod === 'gradcam' && model.kind !== 'layers') throw new StageError(`${where}: ${dir}/model.json is ${model.description}, which has no feature map for Grad-CAM; valid for it: with: { method: occlusion }`);
      method = foldMethod;
      const images = await loadImages(opened.dataDir, samples, size, opened.valFit);
      const pixels = size * size * 3;
      const cam = foldMethod === 'gradcam' && model.kind === 'layers' ? await GradCam.of(model, options.layer, where) : undefined;
      if (cam) layerUsed = cam.layer;
      else if (fill.length === 0) fill = await meanColour(first.dataDir, [...first.trainSet, ...first.valSet], size);
      // Which output each heatmap explains: the predicted class (pytorch-grad-cam's BinaryClassifierOutputTarget for one sigmoid unit), and for multi-class errors the true class too.
      const targetOf = (c: Chosen, which: 'predicted' | 'true'): { cam: CamTarget; score: Score } => {
        if (task === 'binary') return c.predicted === 1 ? { cam: { unit: 0, sign: 1 }, score: (o) => o[0]! } : { cam: { unit: 0, sign: -1 }, score: (o) => 1 - o[0]! };
        if (task === 'regression') return { cam: { unit: 0, sign: 1 }, score: (o) => o[0]! };
        const unit = which === 'predicted' ? c.predicted : c.label;
        return { cam: { unit, sign: 1 }, score: (o) => o[unit]! };
      };
      const mapsFor = async (which: 'predicted' | 'true', indices: number[]): Promise<Map<number, { map: Float32Array; raw: Explained['map'] }>> => {
        const result = new Map<number, { map: Float32Array; raw: Explained['map'] }>();
        if (cam) {
          for (let start = 0; start < indices.length; start += 16) {
            const batch = indices.slice(start, start + 16);
            const x = new Float32Array(batch.length * pixels);
            batch.forEach((i, k) => x.set(images.subarray(i * pixels, (i + 1) * pixels), k * pixels));
            const { cams } = await cam.run(x, batch.length, batch.map((i) => targetOf(mine[i]!, which).cam));
            const [h, w] = cam.mapShape;
            for (const [k, i] of batch.entries()) result.set(i, { map: await upsample(cams[k]!, h, w, size), raw: { rows: h, cols: w, values: Array.from(cams[k]!, (v) => +v.toPrecision(7)) } });
          }
        } else {
          for (const i of indices) {
            const { grid, cells } = await occlusionGrid(model, images.subarray(i * pixels, (i + 1) * pixels), fill, patch, targetOf(mine[i]!, which).score);
            result.set(i, { map: gridToMap(grid, cells, patch, size), raw: { rows: cells, cols: cells, values: Array.from(grid, (v) => +v.toPrecision(7)) } });
          }
        }
        return result;
      };
      const all = mine.map((_, i) => i);
      const mapsStarted = performance.now();
      const predictedMaps = await mapsFor('predicted', all);
      const trueMaps = task === 'multiclass' ? await mapsFor('true', all.filter((i) => mine[i]!.predicted !== mine[i]!.label)) : new Map();
      mapsSeconds += (performance.now() - mapsStarted) / 1000;
      const pictures: Promise<void>[] = [];
      for (const [i, c] of mine.entries()) {
        const index = explained.length;
        const name = String(index).padStart(3, '0');
        const face = await faces.of(c.path, samplePath(opened.dataDir, samples[i]!), size, opened.valFit(samples[i]!), data.input === 'cropped');
        const image = images.subarray(i * pixels, (i + 1) * pixels);
        const { map, raw } = predictedMaps.get(i)!;
        const shares = massShares(map, size, face.box);
        // sharp encodes on its own threads: the pictures of a fold are made together.
        pictures.push(
          renderPair(image, map, size, DISPLAY, face.box).then((pair) => {
            writeFileSync(path.join(out, 'inputs', `${name}.png`), pair.input);
            writeFileSync(path.join(out, 'heatmaps', `${name}.png`), pair.overlay);
          }),
        );
        const record: Explained = {
          path: c.path,
          fold,
          label: c.label,
          class: task === 'regression' ? null : (opened.targets.classNames[c.label] ?? String(c.label)),
          predicted: c.predicted,
          source: c.source,
          score: +c.score.toPrecision(6),
          selection: c.selection,
          face: face.from,
          face_box: face.box ? face.box.map((v) => +v.toFixed(2)) : null,
          face_share: round(shares.face_share),
          border_share: round(shares.border_share),
          input: `inputs/${name}.png`,
          heatmap: `heatmaps/${name}.png`,
          map: raw,
        };
        const other = trueMaps.get(i);
        if (other) {
          const trueShares = massShares(other.map, size, face.box);
          pictures.push(renderPair(image, other.map, size, DISPLAY, face.box).then((pair) => writeFileSync(path.join(out, 'heatmaps', `${name}_true.png`), pair.overlay)));
          record.true_class = { heatmap: `heatmaps/${name}_true.png`, face_share: round(trueShares.face_share), border_share: round(trueShares.border_share) };
        }
        explained.push(record);
        ctx.progress({ explained: `${++done}/${chosen.length}` });
      }
      await Promise.all(pictures);
      cam?.dispose();
      model.dispose();
    }

    const sources = [...new Set(explained.map((e) => e.source))].sort();
    const summary = {
      face_share: shareSummary(explained.map((e) => e.face_share)),
      border_share: shareSummary(explained.map((e) => e.border_share)),
      by_source: Object.fromEntries(sources.map((s) => [s, { face_share: shareSummary(explained.filter((e) => e.source === s).map((e) => e.face_share)), border_share: shareSummary(explained.filter((e) => e.source === s).map((e) => e.border_share)) }])),
      by_selection: Object.fromEntries([...new Set(explained.map((e) => e.selection))].map((sel) => [sel, { face_share: shareSummary(explained.filter((e) => e.selection === sel).map((e) => e.face_share)) }])),
      faces_found: explained.filter((e) => e.face !== 'none').length,
    };
    const result: ExplanationsFile & Record<string, unknown> = {
      experiment,
      task,
      method: method!,
      layer: method === 'gradcam' ? layerUsed : null,
      size,
      ...(method === 'occlusion' ? { occlusion: { patch, fill: fill.map((v) => +v.toFixed(6)) } } : {}),
      intervals: '95% t interval over images, clipped to [0, 1]',
      border: 'the outer 10% of the image on every side',
      images: explained,
      summary,
    };
    writeFileSync(path.join(out, 'explanations.json'), JSON.stringify(result, null, 1) + '\n');
    // Timings go to the log, not into the outs: reruns must be byte-identical.
    ctx.log(`${where}: ${explained.length} image(s) explained in ${((performance.now() - backendUp) / 1000).toFixed(2)} s once the backend was up (${((backendUp - started) / 1000).toFixed(2)} s before), ${mapsSeconds.toFixed(2)} s of it computing the maps`);
    const f = summary.face_share;
    ctx.log(`${where}: ${method}${method === 'gradcam' ? ` on ${layerUsed}` : ''}, ${explained.length} image(s); share inside the face ${f.mean === null ? 'n/a (no face found)' : `${f.mean.toFixed(3)}${f.lo === null ? '' : ` [${f.lo.toFixed(3)}, ${f.hi!.toFixed(3)}]`}`}, on the border ${summary.border_share.mean?.toFixed(3) ?? 'n/a'}`);
  },
};

/** What `train` normalised with (input-recipe.ts); `real`: the fold's real training images' statistics, decoded one at a time. */
async function normalisation(params: ExplainParams, pretrained: ReturnType<typeof backboneOf>, dataDir: string, trainSet: readonly Sample[], size: number): Promise<Normalisation> {
  const stats = new ChannelStats(size * size);
  if (params.train?.normalization === 'real') for (const sample of trainSet.filter((s) => s.label === 0)) stats.add(Float32Array.from(await decodeImage(samplePath(dataDir, sample), size, 'fill'), (v) => v / 255));
  return normalisationOf(params.train?.normalization, pretrained, () => stats.result());
}

/** Occlusion's fill: the mean colour of up to 64 of the dataset's images (the first by path hash), in [0, 1]. */
async function meanColour(dataDir: string, samples: readonly Sample[], size: number): Promise<number[]> {
  const order = byPathHash(samples).slice(0, SAMPLE_FOR_MEAN);
  const stats = new ChannelStats(size * size);
  for (const sample of order) stats.add(Float32Array.from(await decodeImage(samplePath(dataDir, sample), size, 'fill'), (v) => v / 255));
  return stats.result().mean;
}

/** The saved model is the experiment's: its architecture and input size are what the config says. */
function checkModel(model: FoldModel, arch: string | undefined, size: number, probePixels: number | undefined, dir: string, where: string): void {
  const file = path.join(dir, 'model.json');
  if (probePixels !== undefined && model.kind !== 'linear') throw new StageError(`${where}: the config is a baseline probe's (probe.pixels), but ${file} is a network (${model.model.name}); deps: { runs } names another experiment's folder`);
  if (model.kind === 'layers') {
    const name = model.model.name;
    if (arch && !(name === arch || name.startsWith(`${arch}_w`))) throw new StageError(`${where}: ${file} is a ${name.replace(/_w\d+_d\d+$/, '')} network, but the config's model.arch is ${arch}: the runs folder holds another experiment's models, or they are stale (rerun its train stage)`);
  }
  if (model.size !== size) throw new StageError(`${where}: ${file} reads ${model.size} px images, but the config says ${size} px (data.size${probePixels !== undefined ? ', probe.pixels' : ''}): the runs are of another config`);
}
