import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { scoreFold, writeRunFolder, type EpochRecord, type FoldMetrics } from '../runtime/run-folder.js';
import { scoreTaskFold, writeTaskRunFolder, type TaskFoldMetrics } from '../runtime/task-run-folder.js';
import type { Task } from '../runtime/dataset-task.js';
import type { Targets } from '../runtime/targets.js';
import { binaryHead, monitoringLoss, multiclassHead, multiTaskHead, perImageLoss, regressionHead, type Head, type Monitor } from './heads.js';
import { scoreMultiFold, writeMultiRunFolder } from '../runtime/multi-run-folder.js';
import { rng, shuffle } from '../runtime/rng.js';
import { type BuiltinStage, type StageContext } from '../runtime/stage.js';
import { declaration, type NPM_BACKBONES } from './declaration.js';
import { openFold, type FoldDataParams } from '../runtime/fold-data.js';
import { decodedImages, type Fit, type ImageLocation } from '../runtime/decoded-shards.js';
import { samplePath, type Sample } from '../runtime/manifest.js';
import { initBackend } from './backend.js';
import { sha256Text } from '../../src/hash/sha256.js';
import { augmentSettings, drawAugmentation, type AugmentSettings } from './augmentation.js';
import { BatchLoader } from './batches.js';
import { streamedChannelStats } from './data.js';
import { inputSize, normalisationOf, type Normalization } from './input-recipe.js';
import { buildModel, type ModelSpec } from './models.js';
import { backboneOf } from './backbones.js';
import type { TorchvisionArch } from './archs/architecture.js';
import { cachedFeatures } from './feature-cache.js';
import { modelCost } from './model-cost.js';
import { saveLayersModel } from './save-model.js';
import { learningRate, type Schedule, type ScheduleParams } from './schedule.js';
import { buildPretrainedNet, GroupedStep, lossFunction, type Freeze } from './pretrained-net.js';
import { balancedOrder, planBalance, weightedLoss, type BalanceSpec } from './balance.js';

export interface TrainParams {
  seed: number;
  /** Overrides the task the dataset (or data.target) implies. */
  task?: Task;
  model: ModelSpec & { arch: ModelSpec['arch'] | TorchvisionArch | (typeof NPM_BACKBONES)[keyof typeof NPM_BACKBONES]; weights?: string; weights_strict: boolean };
  /** size: the backbone's recipe when unset (32 from scratch). */
  data: FoldDataParams & { size?: number };
  train: {
    epochs: number;
    batch_size: number;
    lr: number;
    weight_decay: number;
    patience: number;
    augment: boolean | Partial<AugmentSettings>;
    /** Unset: the backbone's recipe (imagenet from scratch). */
    normalization?: Normalization;
    /** Regression only: mean squared error or Huber loss on the standardised target. */
    loss: 'mse' | 'huber';
    /** Early stopping and the kept epoch: the task's metric (AUC, macro AUC, MAE) or the validation loss. */
    monitor: Monitor;
    backend?: string;
    freeze: Freeze;
    lr_backbone?: number;
    bn: 'train' | 'frozen';
    schedule: Schedule;
    onecycle: ScheduleParams['onecycle'];
    step_size?: number;
    gamma: number;
    /** Dropout before the output layer, any architecture (0: none). */
    dropout: number;
    /** L1 penalty on the kernels, applied as a subgradient step beside the decay. */
    l1: number;
    /** Rebalancing by group: oversampling or loss weights. */
    balance?: BalanceSpec;
  };
}

/** The network's outputs, one row of `units` per image, streamed in batches. Read back asynchronously: WebGPU cannot read synchronously. */
async function predict(model: tf.LayersModel, loader: BatchLoader, images: readonly ImageLocation[], size: number, norm: { mean: number[]; std: number[] }, units: number): Promise<number[][]> {
  const out: number[][] = [];
  for await (const { data } of loader.stream(images, 64)) {
    const n = data.length / (size * size * 3);
    const y = tf.tidy(() => model.predict(tf.tensor4d(data, [n, size, size, 3]).sub(norm.mean).div(norm.std)) as tf.Tensor);
    const values = (await y.data()) as Float32Array;
    y.dispose();
    for (let i = 0; i < n; i++) out.push(Array.from(values.subarray(i * units, (i + 1) * units)));
  }
  return out;
}

/**
 * Where each sample's decoded image is, decoding (once per clone, shared by every experiment
 * and fold) what the shards lack.
 */
async function locate(ctx: Pick<StageContext, 'stageCache' | 'progress' | 'log'>, dir: string, samples: readonly Sample[], size: number, fit: (s: Sample) => Fit): Promise<ImageLocation[]> {
  const out: ImageLocation[] = new Array(samples.length);
  for (const kind of ['fill', 'letterbox'] as const) {
    const which = samples.flatMap((s, i) => (fit(s) === kind ? [i] : []));
    if (which.length === 0) continue;
    const { locations, decoded } = await decodedImages(path.join(ctx.stageCache, 'shards'), which.map((i) => samplePath(dir, samples[i]!)), size, kind, (done, total) => ctx.progress({ decode: `${done}/${total}` }));
    if (decoded > 0) ctx.log(`decoded ${decoded} image(s) at ${size} px (${kind}) into the shared shards`);
    which.forEach((i, k) => (out[i] = locations[k]!));
  }
  return out;
}

/** Where a fold's training batches and predictions come from: decoded images, or a frozen backbone's cached features. */
interface InputSource {
  batches(order: number[], batchSize: number, random: () => number): AsyncGenerator<{ batch: number[]; x: tf.Tensor }>;
  predict(model: tf.LayersModel, set: 'train' | 'val', units: number): Promise<number[][]>;
}

function imageSource(loader: BatchLoader, trainImages: ImageLocation[], valImages: ImageLocation[], size: number, norm: { mean: number[]; std: number[] }, augment: AugmentSettings | undefined): InputSource {
  return {
    async *batches(order, batchSize, random) {
      // Drawn here, in the order the images are trained on, so the sequence is the run's own.
      const items = order.map((i) => ({ ...trainImages[i]!, augmentation: augment ? drawAugmentation(size, random, augment) : undefined }));
      for await (const { start, data } of loader.stream(items, batchSize)) {
        const batch = order.slice(start, start + batchSize);
        yield { batch, x: tf.tidy(() => tf.tensor4d(data, [batch.length, size, size, 3]).sub(norm.mean).div(norm.std)) };
      }
    },
    predict: (model, set, units) => predict(model, loader, set === 'train' ? trainImages : valImages, size, norm, units),
  };
}

/**
 * freeze: backbone: every image's features once (cached across experiments and folds), then the
 * head alone trains on them; predictions run the head on the same features. No augmentation:
 * features are of the images as they are.
 */
async function featureSource(
  ctx: Pick<StageContext, 'stageCache' | 'progress' | 'log'>,
  net: { backbone: tf.LayersModel; head: tf.LayersModel; digest(): string },
  dataDir: string,
  trainSet: readonly Sample[],
  valSet: readonly Sample[],
  trainImages: ImageLocation[],
  valImages: ImageLocation[],
  valFit: (s: Sample) => Fit,
  loader: BatchLoader,
  size: number,
  norm: { mean: number[]; std: number[] },
): Promise<InputSource> {
  const dim = net.backbone.outputs[0]!.shape[1]!;
  const digest = net.digest();
  const featuresOf = async (samples: readonly Sample[], images: ImageLocation[], fit: (s: Sample) => Fit) => {
    const out = new Float32Array(samples.length * dim);
    for (const kind of ['fill', 'letterbox'] as const) {
      const which = samples.flatMap((s, i) => (fit(s) === kind ? [i] : []));
      if (which.length === 0) continue;
      const dir = path.join(ctx.stageCache, 'features', sha256Text(`${digest}\0${kind}\0${norm.mean.join()}\0${norm.std.join()}`).slice(0, 24));
      const { features, computed } = await cachedFeatures(
        dir,
        which.map((i) => samplePath(dataDir, samples[i]!)),
        dim,
        async (chunk) => {
          const data = await loader.load(chunk.map((k) => images[which[k]!]!));
          const y = tf.tidy(() => net.backbone.predict(tf.tensor4d(data, [chunk.length, size, size, 3]).sub(norm.mean).div(norm.std)) as tf.Tensor);
          const rows = (await y.data()) as Float32Array;
          y.dispose();
          return rows;
        },
        (done, total) => ctx.progress({ features: `${done}/${total}` }),
      );
      if (computed > 0) ctx.log(`embedded ${computed} image(s) with the frozen backbone (cached for every head on it)`);
      which.forEach((i, k) => out.set(features.subarray(k * dim, (k + 1) * dim), i * dim));
    }
    return out;
  };
  const train = await featuresOf(trainSet, trainImages, () => 'fill');
  const val = await featuresOf(valSet, valImages, valFit);
  const rows = (matrix: Float32Array, which: number[]) => {
    const out = new Float32Array(which.length * dim);
    which.forEach((i, k) => out.set(matrix.subarray(i * dim, (i + 1) * dim), k * dim));
    return tf.tensor2d(out, [which.length, dim]);
  };
  return {
    async *batches(order, batchSize) {
      for (let start = 0; start < order.length; start += batchSize) {
        const batch = order.slice(start, start + batchSize);
        yield { batch, x: rows(train, batch) };
      }
    },
    async predict(_model, set, units) {
      const matrix = set === 'train' ? train : val;
      const n = matrix.length / dim;
      const y = tf.tidy(() => net.head.predict(tf.tensor2d(matrix, [n, dim])) as tf.Tensor);
      const values = (await y.data()) as Float32Array;
      y.dispose();
      return Array.from({ length: n }, (_, i) => Array.from(values.subarray(i * units, (i + 1) * units)));
    },
  };
}

function headFor(targets: Targets, trainTargets: readonly number[], loss: 'mse' | 'huber'): Head {
  if (targets.task === 'multiclass') return multiclassHead(targets.classNames.length);
  if (targets.task === 'regression') return regressionHead(trainTargets, loss);
  return binaryHead();
}

/**
 * One experiment x fold: builds the model from scratch, trains with AdamW (decoupled weight
 * decay) on a cosine schedule, stops early on validation AUC, and writes the best epoch's
 * weights, the per-epoch history, out-of-fold predictions and metrics.
 */
export const train: BuiltinStage<TrainParams> = {
  declaration,
  async run(ctx) {
    const { seed, model: modelSpec, data, train: opt } = ctx.params;
    const out = ctx.outputs.run;
    const pretrained = backboneOf(modelSpec.arch);
    const size = inputSize(data.size, pretrained);
    const { fold, targets, trainSet, valSet, dataDir, valFit, named } = openFold(ctx, 'train', data, ctx.params.task);
    const trainImages = await locate(ctx, dataDir, trainSet, size, () => 'fill');
    const valImages = await locate(ctx, dataDir, valSet, size, valFit);
    const backend = await initBackend(opt.backend === 'auto' ? undefined : opt.backend);
    ctx.log(`train ${ctx.id}: backend ${backend.backend} (${backend.detail})`);
    const loader = new BatchLoader(size);
    // Several targets: each looks up its own labels, by sample index.
    const yTrain = named ? trainSet.map((_, i) => i) : trainSet.map((s) => s.label);
    const yVal = named ? valSet.map((_, i) => i) : valSet.map((s) => s.label);
    const norm = normalisationOf(opt.normalization, pretrained, () => streamedChannelStats(trainSet.flatMap((s, i) => (s.label === 0 ? [trainImages[i]!] : [])), size));

    const monitorName = opt.monitor === 'loss' ? 'loss' : (data.monitor ?? named?.[0]?.target.name ?? 'default');
    const multi = named
      ? multiTaskHead(named.map((n) => ({ name: n.target.name, head: headFor(n.target.targets, n.train, n.target.loss), weight: n.target.weight, train: n.train, val: n.val })), monitorName)
      : undefined;
    const head = multi ?? (opt.monitor === 'loss' ? monitoringLoss(headFor(targets, yTrain, opt.loss)) : headFor(targets, yTrain, opt.loss));
    const net = pretrained
      ? await buildPretrainedNet(pretrained, { size, seed: seed + fold, units: head.units, activation: head.activation, dropout: opt.dropout, ...(modelSpec.weights ? { weights: modelSpec.weights } : {}), weightsStrict: modelSpec.weights_strict, freeze: opt.freeze, bn: opt.bn })
      : undefined;
    const model = net ? net.model : buildModel(modelSpec as ModelSpec, size, seed + fold, { units: head.units, activation: head.activation, dropout: opt.dropout });
    if (net) ctx.log(net.loaded);
    const frozen = net && opt.freeze === 'backbone' ? net : undefined;
    const source = frozen ? await featureSource(ctx, frozen, dataDir, trainSet, valSet, trainImages, valImages, valFit, loader, size, norm) : imageSource(loader, trainImages, valImages, size, norm, augmentSettings(opt.augment));
    let step: (x: tf.Tensor, y: tf.Tensor, lr: number) => Promise<void>;
    const balance = opt.balance ? planBalance(opt.balance, trainSet, dataDir) : undefined;
    if (balance) ctx.log(`balance by ${balance.by} (${balance.method}): ${balance.groups.map((g) => `${g.group} ${g.n}${balance.method === 'oversample' ? ` -> ${g.per_epoch}` : ` x ${g.weight.toFixed(3)}`}`).join(', ')}`);
    let batchNow: readonly number[] = [];
    if (balance?.method === 'weights') {
      // Weighted losses take the training step that computes its own loss (the one pretrained nets use).
      const trained = frozen ? frozen.head : model;
      const groups = net ? (frozen ? { backbone: [], head: net.groups.head } : net.groups) : { backbone: [], head: model.trainableWeights };
      const grouped = new GroupedStep(trained, groups, weightedLoss(perImageLoss(head), balance, () => batchNow));
      step = async (x, y, lr) => grouped.run(x, y, lr, ((opt.lr_backbone ?? opt.lr) * lr) / opt.lr);
    } else if (net) {
      const trained = frozen ? frozen.head : model;
      const grouped = new GroupedStep(trained, frozen ? { backbone: [], head: net.groups.head } : net.groups, lossFunction(head.loss));
      step = async (x, y, lr) => grouped.run(x, y, lr, ((opt.lr_backbone ?? opt.lr) * lr) / opt.lr);
    } else {
      const optimizer = tf.train.adam(opt.lr);
      model.compile({ optimizer, loss: head.loss });
      step = async (x, y, lr) => {
        (optimizer as unknown as { learningRate: number }).learningRate = lr;
        await model.trainOnBatch(x, y);
      };
    }
    const decayed = model.trainableWeights.filter((w) => /kernel/.test(w.originalName));
    const random = rng(seed * 31 + fold);
    const history: EpochRecord[] = [];
    let best = { score: -Infinity, epoch: 0, weights: [] as tf.Tensor[] };
    let imagesTrained = 0;
    let trainSeconds = 0;

    const stepsPerEpoch = Math.ceil(balancedOrder(balance, trainSet.length, () => 0).length / opt.batch_size);
    for (let epoch = 0; epoch < opt.epochs; epoch++) {
      if (ctx.signal.aborted) return;
      const started = performance.now();
      let lr = learningRate(opt, epoch, 0, stepsPerEpoch);
      const order = shuffle(balancedOrder(balance, trainSet.length, random), random);
      let stepInEpoch = 0;
      for await (const { batch, x } of source.batches(order, opt.batch_size, random)) {
        lr = learningRate(opt, epoch, stepInEpoch++, stepsPerEpoch);
        const y = head.encode(batch.map((i) => yTrain[i]));
        batchNow = batch;
        await step(x, y, lr);
        x.dispose();
        y.dispose();
        // AdamW: weight decay applied to the weights directly, not through the gradient; L1 likewise, by its subgradient.
        tf.tidy(() => decayed.forEach((w) => w.write(opt.l1 > 0 ? w.read().mul(1 - lr * opt.weight_decay).sub(w.read().sign().mul(lr * opt.l1)) : w.read().mul(1 - lr * opt.weight_decay))));
        imagesTrained += batch.length;
      }
      trainSeconds += (performance.now() - started) / 1000;
      const trainOut = head.decode(await source.predict(model, 'train', head.units));
      const valOut = head.decode(await source.predict(model, 'val', head.units));
      const scores = head.scores(yTrain, trainOut, yVal, valOut);
      const watched = multi?.parts.find((p) => p.name === monitorName);
      const metric = (watched ? `${watched.name}_` : '') + ((watched?.head ?? head).task === 'regression' ? 'mae' : 'auc');
      const record: EpochRecord = { epoch: epoch + 1, lr, train_loss: scores.train_loss, [`train_${metric}`]: scores.train, val_loss: scores.val_loss, [`val_${metric}`]: scores.val };
      // Timings go to the log, not into the outs: reruns must be byte-identical.
      ctx.log(`epoch ${epoch + 1}: ${((performance.now() - started) / 1000).toFixed(2)} s, ${head.monitor} ${scores.val.toFixed(4)}`);
      history.push(record);
      ctx.progress({ fold, epoch: `${epoch + 1}/${opt.epochs}`, [`val_${metric}`]: scores.val.toFixed(3) });
      if (scores.score > best.score) {
        best.weights.forEach((t) => t.dispose());
        best = { score: scores.score, epoch: epoch + 1, weights: model.getWeights().map((w) => w.clone()) };
      } else if (epoch + 1 - best.epoch >= opt.patience) {
        ctx.log(`early stop after epoch ${epoch + 1}: no ${head.monitor} gain for ${opt.patience} epochs`);
        break;
      }
    }
    model.setWeights(best.weights);
    const valOut = head.decode(await source.predict(model, 'val', head.units));
    const trainOut = head.decode(await source.predict(model, 'train', head.units));
    await loader.close();
    // torch's count for the torchvision nets (its parameters(), without batch norm's running statistics); tfjs's for the others, as before.
    const parameters = net ? model.weights.filter((w) => !/moving_(mean|variance)$/.test(w.originalName)).reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0) : model.countParams();
    const run = { best_epoch: best.epoch, epochs_run: history.length, backend: backend.backend, backend_detail: backend.detail, parameters, images_seen: imagesTrained, ...modelCost(model) };
    const balanceRecord = balance ? { balance: { by: balance.by, method: balance.method, groups: balance.groups } } : {};
    if (multi && named) {
      const [tr, va] = [multi.slices(trainOut), multi.slices(valOut)];
      const parts = named.map((n, k) => ({ target: n.target, yTrain: n.train, yVal: n.val, train: tr[k], val: va[k] }));
      const metrics = { ...scoreMultiFold(fold, trainSet, valSet, parts, run, monitorName), ...balanceRecord };
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      await saveLayersModel(model, out);
      writeMultiRunFolder(out, metrics, valSet, parts, history);
      ctx.log(`fold ${fold}: ${Object.entries(metrics.targets).map(([name, t]) => `${name} ${t.task === 'regression' ? `MAE ${(t.val as { mae: number }).mae.toFixed(4)}` : t.task === 'multiclass' ? `accuracy ${(t.val as { accuracy: number }).accuracy.toFixed(4)}` : `AUC ${(t.val as { auc: number }).auc.toFixed(4)}`}`).join(', ')} at epoch ${best.epoch} (early stopping on ${head.monitor})`);
      return;
    }
    const column = (rows: number[][]) => rows.map((r) => r[0]);
    const binary = { fold, trainSet, valSet, trainProbs: column(trainOut), valProbs: column(valOut) };
    const other = { fold, trainSet, valSet, train: trainOut, val: valOut };
    const metrics = { ...(head.task === 'binary' ? scoreFold(binary, run) : scoreTaskFold(targets, other, run)), ...balanceRecord };
    const speed = imagesTrained / Math.max(trainSeconds, 1e-9);

    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    await saveLayersModel(model, out);
    if (head.task === 'binary') writeRunFolder(out, metrics as FoldMetrics, binary, history);
    else writeTaskRunFolder(out, metrics as TaskFoldMetrics, other, history);
    ctx.log(`fold ${fold}: ${head.monitor} ${(head.task === 'regression' || opt.monitor === 'loss' ? -best.score : best.score).toFixed(4)} at epoch ${best.epoch}; ${speed.toFixed(1)} train images/s on ${backend.backend}`);
  },
};
