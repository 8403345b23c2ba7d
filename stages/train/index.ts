import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { binaryMetrics } from '../metrics/metrics.js';
import { scoreFold, writeRunFolder, type EpochRecord } from '../runtime/run-folder.js';
import { rng, shuffle } from '../runtime/rng.js';
import { StageError, type BuiltinStage } from '../runtime/stage.js';
import { declaration } from './declaration.js';
import { loadFold, type FoldDataParams } from '../runtime/fold-data.js';
import { initBackend } from './backend.js';
import { augment, channelStats, IMAGENET } from './data.js';
import { buildModel, type ModelSpec } from './models.js';

export interface TrainParams {
  seed: number;
  model: ModelSpec;
  data: FoldDataParams & { size: number };
  train: {
    epochs: number;
    batch_size: number;
    lr: number;
    weight_decay: number;
    patience: number;
    augment: boolean;
    normalization: 'imagenet' | 'real';
    backend?: string;
  };
}

function predict(model: tf.LayersModel, images: Float32Array, count: number, size: number, norm: { mean: number[]; std: number[] }, batch: number): number[] {
  const out: number[] = [];
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const probs = tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(start * size * size * 3, (start + n) * size * size * 3), [n, size, size, 3]);
      return (model.predict(x.sub(norm.mean).div(norm.std)) as tf.Tensor).dataSync();
    });
    out.push(...Array.from(probs));
  }
  return out;
}

function bce(labels: number[], probs: number[]): number {
  let sum = 0;
  labels.forEach((y, i) => {
    const p = Math.min(1 - 1e-7, Math.max(1e-7, probs[i]));
    sum += y ? -Math.log(p) : -Math.log(1 - p);
  });
  return sum / labels.length;
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
    const size = data.size;
    const { fold, trainSet, valSet, xTrain, xVal } = await loadFold(ctx, 'train', data, size);
    const backend = await initBackend(opt.backend === 'auto' ? undefined : opt.backend);
    ctx.log(`train ${ctx.id}: backend ${backend.backend} (${backend.detail})`);
    const yTrain = trainSet.map((s) => s.label);
    const yVal = valSet.map((s) => s.label);
    const norm = opt.normalization === 'real' ? channelStats(xTrain, trainSet.flatMap((s, i) => (s.label === 0 ? [i] : [])), size) : IMAGENET;

    const model = buildModel(modelSpec, size, seed + fold);
    const optimizer = tf.train.adam(opt.lr);
    model.compile({ optimizer, loss: 'binaryCrossentropy' });
    const decayed = model.trainableWeights.filter((w) => /kernel/.test(w.originalName));
    const random = rng(seed * 31 + fold);
    const history: EpochRecord[] = [];
    let best = { auc: -1, epoch: 0, weights: [] as tf.Tensor[] };
    let imagesTrained = 0;
    let trainSeconds = 0;
    const pixels = size * size * 3;

    for (let epoch = 0; epoch < opt.epochs; epoch++) {
      if (ctx.signal.aborted) return;
      const started = performance.now();
      const lr = opt.lr * 0.5 * (1 + Math.cos((Math.PI * epoch) / opt.epochs));
      (optimizer as unknown as { learningRate: number }).learningRate = lr;
      const order = shuffle([...trainSet.keys()], random);
      for (let start = 0; start < order.length; start += opt.batch_size) {
        const batch = order.slice(start, start + opt.batch_size);
        const xb = new Float32Array(batch.length * pixels);
        batch.forEach((i, k) => {
          const img = xTrain.slice(i * pixels, (i + 1) * pixels);
          if (opt.augment) augment(img, size, random);
          xb.set(img, k * pixels);
        });
        const x = tf.tidy(() => tf.tensor4d(xb, [batch.length, size, size, 3]).sub(norm.mean).div(norm.std));
        const y = tf.tensor2d(batch.map((i) => yTrain[i]), [batch.length, 1]);
        await model.trainOnBatch(x, y);
        x.dispose();
        y.dispose();
        // AdamW: weight decay applied to the weights directly, not through the gradient.
        tf.tidy(() => decayed.forEach((w) => w.write(w.read().mul(1 - lr * opt.weight_decay))));
        imagesTrained += batch.length;
      }
      trainSeconds += (performance.now() - started) / 1000;
      const trainProbs = predict(model, xTrain, trainSet.length, size, norm, 64);
      const valProbs = predict(model, xVal, valSet.length, size, norm, 64);
      const record: EpochRecord = {
        epoch: epoch + 1,
        lr,
        train_loss: bce(yTrain, trainProbs),
        train_auc: binaryMetrics(yTrain, trainProbs).auc,
        val_loss: bce(yVal, valProbs),
        val_auc: binaryMetrics(yVal, valProbs).auc,
      };
      // Timings go to the log, not into the outs: reruns must be byte-identical.
      ctx.log(`epoch ${epoch + 1}: ${((performance.now() - started) / 1000).toFixed(2)} s, val AUC ${record.val_auc.toFixed(4)}`);
      history.push(record);
      ctx.progress({ fold, epoch: `${epoch + 1}/${opt.epochs}`, val_auc: record.val_auc.toFixed(3) });
      if (record.val_auc > best.auc) {
        best.weights.forEach((t) => t.dispose());
        best = { auc: record.val_auc, epoch: epoch + 1, weights: model.getWeights().map((w) => w.clone()) };
      } else if (epoch + 1 - best.epoch >= opt.patience) {
        ctx.log(`early stop after epoch ${epoch + 1}: no val AUC gain for ${opt.patience} epochs`);
        break;
      }
    }
    model.setWeights(best.weights);
    const valProbs = predict(model, xVal, valSet.length, size, norm, 64);
    const trainProbs = predict(model, xTrain, trainSet.length, size, norm, 64);
    const predictions = { fold, trainSet, valSet, trainProbs, valProbs };
    const metrics = scoreFold(predictions, { best_epoch: best.epoch, epochs_run: history.length, backend: backend.backend, backend_detail: backend.detail, parameters: model.countParams(), images_seen: imagesTrained });
    const speed = imagesTrained / Math.max(trainSeconds, 1e-9);

    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        writeFileSync(path.join(out, 'model.json'), JSON.stringify({ modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] }));
        writeFileSync(path.join(out, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
        return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
      }),
    );
    writeRunFolder(out, metrics, predictions, history);
    ctx.log(`fold ${fold}: val AUC ${metrics.val.auc.toFixed(4)} at epoch ${best.epoch}; ${speed.toFixed(1)} train images/s on ${backend.backend}`);
  },
};
