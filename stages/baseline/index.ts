import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { logLoss, rocAuc } from '../metrics/metrics.js';
import { loadFold, type FoldDataParams } from '../runtime/fold-data.js';
import { scoreFold, writeRunFolder } from '../runtime/run-folder.js';
import { StageError, type BuiltinStage } from '../runtime/stage.js';
import { declaration } from './declaration.js';
import { fitLogistic, predictLogistic, standardize, standardScaler, type Rows } from './logistic.js';

export interface BaselineParams {
  data: FoldDataParams;
  probe: { pixels: number; C: number };
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
    if (fold.targets.task !== 'binary') throw new StageError(`baseline is a binary probe (logistic regression on pixels); this target is ${fold.targets.task}`);
    const trainRows = rows(fold.xTrain, fold.trainSet.length);
    const scaler = standardScaler(trainRows);
    const zTrain: Rows = standardize(trainRows, scaler);
    const zVal: Rows = standardize(rows(fold.xVal, fold.valSet.length), scaler);
    const yTrain = fold.trainSet.map((s) => s.label);
    const yVal = fold.valSet.map((s) => s.label);
    const model = fitLogistic(zTrain, yTrain, probe.C);
    const trainProbs = predictLogistic(model, zTrain);
    const valProbs = predictLogistic(model, zVal);
    const predictions = { fold: fold.fold, trainSet: fold.trainSet, valSet: fold.valSet, trainProbs, valProbs };
    const detail = `L2 logistic regression, C=${probe.C}, ${probe.pixels}x${probe.pixels}x3 standardised pixels, Newton (${model.iterations} steps)`;
    const metrics = scoreFold(predictions, { best_epoch: 1, epochs_run: 1, backend: 'logistic-regression', backend_detail: detail, parameters: model.coef.length + 1, images_seen: fold.trainSet.length });
    // One "epoch": the fit is exact, so learning curves show the probe as a single point.
    const history = [{ epoch: 1, lr: 0, train_loss: logLoss(yTrain, trainProbs), train_auc: rocAuc(yTrain, trainProbs), val_loss: logLoss(yVal, valProbs), val_auc: rocAuc(yVal, valProbs) }];
    rmSync(out, { recursive: true, force: true });
    writeRunFolder(out, metrics, predictions, history);
    writeFileSync(path.join(out, 'model.json'), JSON.stringify({ kind: 'logistic_regression', pixels: probe.pixels, C: probe.C, ...scaler, coef: model.coef, intercept: model.intercept }) + '\n');
    ctx.log(`baseline fold ${fold.fold}: val AUC ${metrics.val.auc.toFixed(4)} (${detail})`);
  },
};
