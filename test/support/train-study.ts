/**
 * The smallest study that trains: synth-faces, a split, and `train` over every config in
 * configs/exp/ on fold 0 (configs/dataset.yaml sets the data and the folds).
 */
export const TRAIN_STUDY_PIPELINE = [
  'params: [configs/dataset.yaml]',
  'stages:',
  '  data: { uses: synth-faces, params: [seed, data], outs: { dataset: data/raw } }',
  '  split: { uses: split, deps: { dataset: data/raw }, params: [seed, cv], outs: { splits: outputs/splits.json } }',
  '  train:',
  '    matrix: { exp: "configs/exp/*.yaml", fold: [0] }',
  '    uses: train',
  '    with: { fold: "${fold}" }',
  '    deps: { splits: outputs/splits.json, dataset: data/raw }',
  '    params: ${exp}',
  '    outs: { run: "outputs/runs/${exp.name}/fold${fold}" }',
  '',
].join('\n');
