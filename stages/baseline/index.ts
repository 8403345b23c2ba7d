import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { logLoss, rocAuc } from '../metrics/metrics.js';
import { loadFold, type FoldData, type FoldDataParams } from '../runtime/fold-data.js';
import { scoreTaskFold, writeTaskRunFolder } from '../runtime/task-run-folder.js';
import { scoreFold, writeRunFolder } from '../runtime/run-folder.js';
import type { BuiltinStage, StageContext } from '../runtime/stage.js';
import { declaration } from './declaration.js';
import { fitLogistic, fitOneVsRest, fitRidge, predictLinear, predictLogistic, predictOneVsRest, standardize, standardScaler, type Rows } from './logistic.js';

export interface BaselineParams {
  data: FoldDataParams;
  probe: { pixels: number; C: number; alpha: number };
}

/**
 * The probe for the other tasks: one-vs-rest logistic regression (multi-class) or ridge
 * regression (a numeric target) on the same standardised pixels, in the files `train` writes.
 */
function otherTask(out: string, fold: FoldData, zTrain: Rows, zVal: Rows, probe: BaselineParams['probe'], scaler: { mean: number[]; scale: number[] }, progress: StageContext['progress']): void {
  const { targets } = fold;
  const yTrain = fold.trainSet.map((s) => s.label);
  let train: number[][];
  let val: number[][];
  let model: object;
  if (targets.task === 'multiclass') {
    const models = fitOneVsRest(zTrain, yTrain, targets.classNames.length, probe.C, (done, total) => progress({ classes: `${done}/${total}` }));
    [train, val] = [predictOneVsRest(models, zTrain), predictOneVsRest(models, zVal)];
    model = { kind: 'one_vs_rest_logistic_regression', C: probe.C, coef: models.map((m) => m.coef), intercept: models.map((m) => m.intercept) };
  } else {
    const ridge = fitRidge(zTrain, yTrain, probe.alpha);
    [train, val] = [predictLinear(ridge, zTrain).map((v) => [v]), predictLinear(ridge, zVal).map((v) => [v])];
    model = { kind: 'ridge_regression', alpha: probe.alpha, ...ridge };
  }
  const detail = targets.task === 'multiclass' ? `one-vs-rest L2 logistic regression, C=${probe.C}` : `ridge regression, alpha=${probe.alpha}`;
  const predictions = { fold: fold.fold, trainSet: fold.trainSet, valSet: fold.valSet, train, val };
  const metrics = scoreTaskFold(targets, predictions, { best_epoch: 1, epochs_run: 1, backend: targets.task === 'multiclass' ? 'logistic-regression' : 'ridge-regression', backend_detail: `${detail}, ${probe.pixels}x${probe.pixels}x3 standardised pixels`, parameters: zTrain[0].length + 1, images_seen: fold.trainSet.length });
  const key = targets.task === 'multiclass' ? 'auc' : 'mae';
  const m = (x: typeof metrics.val) => ('auc_ovr_macro' in x ? x.auc_ovr_macro : x.mae);
  const history = [{ epoch: 1, lr: 0, train_loss: 'log_loss' in metrics.train ? metrics.train.log_loss : metrics.train.mse, [`train_${key}`]: m(metrics.train), val_loss: 'log_loss' in metrics.val ? metrics.val.log_loss : metrics.val.mse, [`val_${key}`]: m(metrics.val) }];
  rmSync(out, { recursive: true, force: true });
  writeTaskRunFolder(out, metrics, predictions, history);
  writeFileSync(path.join(out, 'model.json'), JSON.stringify({ ...model, pixels: probe.pixels, ...scaler }) + '\n');
}

function rows(images: Float32Array, count: number): Float64Array[] {
  const width = images.length / Math.max(1, count);
  return Array.from({ length: count }, (_, i) => Float64Array.from(images.subarray(i * width, (i + 1) * width)));
}

/**
 * The probe every study should have beside its networks: L2 logistic regression on the pixels of
 * a thumbnail, the same folds and the same output files as `train`. When it matches the CNNs,
 * the task has a pixel-level shortcut or the networks learn nothing more than it does.
 */
export const baseline: BuiltinStage<BaselineParams> = {
  declaration,
  async run(ctx) {
    const { data, probe } = ctx.params;
    const out = ctx.outputs.run;
    const fold = await loadFold(ctx, 'baseline', data, probe.pixels);
    const trainRows = rows(fold.xTrain, fold.trainSet.length);
    const scaler = standardScaler(trainRows);
    const zTrain: Rows = standardize(trainRows, scaler);
    const zVal: Rows = standardize(rows(fold.xVal, fold.valSet.length), scaler);
    const yTrain = fold.trainSet.map((s) => s.label);
    const yVal = fold.valSet.map((s) => s.label);
    if (fold.targets.task !== 'binary') {
      otherTask(ctx.outputs.run, fold, zTrain, zVal, probe, scaler, ctx.progress);
      return;
    }
    const model = fitLogistic(zTrain, yTrain, probe.C);
    const trainProbs = predictLogistic(model, zTrain);
    const valProbs = predictLogistic(model, zVal);
    const predictions = { fold: fold.fold, trainSet: fold.trainSet, valSet: fold.valSet, trainProbs, valProbs };
    const detail = `L2 logistic regression, C=${probe.C}, ${probe.pixels}x${probe.pixels}x3 standardised pixels, Newton (${model.iterations} steps${model.rank ? `, in the ${model.rank} directions the images span` : ''})`;
    const metrics = scoreFold(predictions, { best_epoch: 1, epochs_run: 1, backend: 'logistic-regression', backend_detail: detail, parameters: model.coef.length + 1, images_seen: fold.trainSet.length });
    // One "epoch": the fit is exact, so learning curves show the probe as a single point.
    const history = [{ epoch: 1, lr: 0, train_loss: logLoss(yTrain, trainProbs), train_auc: rocAuc(yTrain, trainProbs), val_loss: logLoss(yVal, valProbs), val_auc: rocAuc(yVal, valProbs) }];
    rmSync(out, { recursive: true, force: true });
    writeRunFolder(out, metrics, predictions, history);
    writeFileSync(path.join(out, 'model.json'), JSON.stringify({ kind: 'logistic_regression', pixels: probe.pixels, C: probe.C, ...scaler, coef: model.coef, intercept: model.intercept }) + '\n');
    ctx.log(`baseline fold ${fold.fold}: val AUC ${metrics.val.auc.toFixed(4)} (${detail})`);
  },
};
