import { readFileSync } from 'node:fs';
import { trainingSet, validationSet, type Split } from '../split/split.js';
import { loadImages } from '../train/data.js';
import type { Fit } from './decoded-shards.js';
import type { Sample } from './manifest.js';
import type { Task } from './dataset-task.js';
import { resolveTargets, type Targets } from './targets.js';
import { resolveNamedTargets, type NamedTarget, type TargetSpec } from './multi-targets.js';
import { StageError, type StageContext } from './stage.js';

/** The `data:` block a trainer (`train`, `baseline`) reads its fold's images by. */
export interface FoldDataParams {
  /** Which dataset directory to read: the raw images or the face crops. */
  input: 'raw' | 'cropped';
  /** Fraction of the training groups (nested: 0.2 is inside 0.5). */
  fraction: number;
  /** Train without this fake source; it still appears in validation (a shortcut probe). */
  holdout_source?: string;
  /** `letterbox` evaluates real images padded to square (the matched-geometry probe). */
  eval_geometry: 'same' | 'letterbox';
  /** What to predict: the manifest's `label` (default), `source`, or another manifest column (numeric: regression). */
  target?: string;
  /** Several targets from one network (train only), instead of `target`. */
  targets?: Record<string, TargetSpec>;
  /** With targets: the target early stopping watches, or `loss`. */
  monitor?: string;
}

export interface FoldData {
  fold: number;
  /** The task and class names; the sets' labels are already the targets'. */
  targets: Targets;
  trainSet: Sample[];
  valSet: Sample[];
  /** size x size RGB in [0, 1], one image after another. */
  xTrain: Float32Array;
  xVal: Float32Array;
}

/** An optional input that this run's params need after all. */
function requireInput(value: string | undefined, name: string, because: string): string {
  if (!value) throw new StageError(`${because} needs the input \`${name}\` (deps: { ${name}: <folder> } in pipeline.yaml)`);
  return value;
}

/** The fold a trainer was given (`with: { fold }`), checked against the split. */
function readFold(ctx: Pick<StageContext, 'options' | 'inputs'>, stage: string): { fold: number; split: Split } {
  const fold = Number(ctx.options.fold);
  if (!Number.isInteger(fold)) throw new StageError(`${stage} needs \`with: { fold: \${fold} }\``);
  const split = JSON.parse(readFileSync(ctx.inputs.splits, 'utf8')) as Split;
  if (fold < 0 || fold >= split.folds) throw new StageError(`fold ${fold} is outside the split's ${split.folds} folds`);
  return { fold, split };
}

/** A fold's samples, without their images: which files, with which targets, decoded how. */
export interface FoldSamples extends Omit<FoldData, 'xTrain' | 'xVal'> {
  /** With `data.targets`: each target, and its label of every training and validation sample (the sets keep the manifest's label). */
  named?: { target: NamedTarget; train: number[]; val: number[] }[];
  /** The folder the samples' paths are relative to (the raw images or the face crops). */
  dataDir: string;
  /** How a validation image is fitted to the square (training images are always `fill`). */
  valFit(sample: Sample): Fit;
}

export function openFold(ctx: Pick<StageContext, 'options' | 'inputs'>, stage: string, data: FoldDataParams, task?: Task): FoldSamples {
  const { fold, split } = readFold(ctx, stage);
  const dataDir = data.input === 'cropped' ? requireInput(ctx.inputs.cropped, 'cropped', 'data.input: cropped') : ctx.inputs.dataset;
  // Targets come from the dataset the split indexes (its manifest), whichever images are read.
  const valFit = (s: Sample): Fit => (data.eval_geometry === 'letterbox' && s.label === 0 ? 'letterbox' : 'fill');
  if (data.targets) {
    if (data.target !== undefined) throw new StageError('data.target and data.targets: one target or several; name `label` among the targets to keep it');
    const named = resolveNamedTargets(split.samples, ctx.inputs.dataset, split.task ?? 'binary', data.targets);
    if (data.monitor !== undefined && data.monitor !== 'loss' && !named.some((t) => t.name === data.monitor)) {
      throw new StageError(`data.monitor: ${data.monitor} is not one of data.targets (${named.map((t) => t.name).join(', ')}) or loss`);
    }
    const trainSet = trainingSet(split, fold, data.fraction, data.holdout_source);
    const valSet = validationSet(split, fold);
    return { fold, targets: named[0].targets, trainSet, valSet, dataDir, valFit, named: named.map((target) => ({ target, train: trainSet.map((s) => target.targets.labelOf(s)), val: valSet.map((s) => target.targets.labelOf(s)) })) };
  }
  const targets = resolveTargets(split.samples, ctx.inputs.dataset, split.task ?? 'binary', { target: data.target, task });
  const relabel = (set: Sample[]) => set.map((s) => ({ ...s, label: targets.labelOf(s) }));
  const trainSet = relabel(trainingSet(split, fold, data.fraction, data.holdout_source));
  const valSet = relabel(validationSet(split, fold));
  return { fold, targets, trainSet, valSet, dataDir, valFit };
}

/** A fold's training and validation images at `size` px, in memory (the probe's small thumbnails; `train` streams instead). */
export async function loadFold(ctx: Pick<StageContext, 'options' | 'inputs'>, stage: string, data: FoldDataParams, size: number, task?: Task): Promise<FoldData> {
  const { dataDir, valFit, ...fold } = openFold(ctx, stage, data, task);
  const xTrain = await loadImages(dataDir, fold.trainSet, size, () => 'fill');
  const xVal = await loadImages(dataDir, fold.valSet, size, valFit);
  return { ...fold, xTrain, xVal };
}
