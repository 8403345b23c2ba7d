import type { StageDeclaration } from '../../src/protocol/stage-protocol.js';
import { foldDataProperties, foldOptions, trainerInputs } from '../runtime/trainer-ports.js';

/** What the engine checks a `uses: train` stage against (light: no stage code is loaded to plan a run). */
export const declaration: StageDeclaration = {
  name: 'train',
  version: '7',
  description: 'TensorFlow.js training of one experiment x fold',
  entry: 'train/main.js',
  inputs: trainerInputs,
  outputs: {
    run: { kind: 'dir', description: 'weights, history.json, oof.csv, metrics.json' },
  },
  metrics: [{ output: 'run', file: 'metrics.json' }],
  options: foldOptions,
  params: {
  type: 'object',
  required: ['seed', 'model', 'data', 'train'],
  properties: {
    seed: { type: 'integer' },
    task: { enum: ['binary', 'multiclass', 'regression'], description: "overrides the task the dataset's labels (or data.target) imply" },
    model: {
      type: 'object',
      required: ['arch'],
      properties: { arch: { enum: ['simple_cnn', 'resnet', 'mobilenet'] }, width: { type: 'integer', minimum: 1, default: 16 }, depth: { type: 'integer', minimum: 1, default: 1 } },
    },
    data: {
      type: 'object',
      properties: {
        ...foldDataProperties,
        size: { type: 'integer', minimum: 8, default: 32 },
      },
    },
    train: {
      type: 'object',
      properties: {
        epochs: { type: 'integer', minimum: 1, default: 8 },
        batch_size: { type: 'integer', minimum: 1, default: 32 },
        lr: { type: 'number', exclusiveMinimum: 0, default: 0.003 },
        weight_decay: { type: 'number', minimum: 0, default: 0.0001 },
        patience: { type: 'integer', minimum: 1, default: 3 },
        augment: { type: 'boolean', default: false },
        normalization: { enum: ['imagenet', 'real'], default: 'imagenet' },
        loss: { enum: ['mse', 'huber'], default: 'mse', description: 'regression: squared or Huber loss on the standardised target' },
        monitor: { enum: ['default', 'loss'], default: 'default', description: "early stopping watches the task's metric (AUC; macro one-vs-rest AUC; MAE) or the validation loss" },
        backend: { enum: ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] },
      },
    },
  },
},
};
