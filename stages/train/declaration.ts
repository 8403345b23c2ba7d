import type { StageDeclaration } from '../../src/protocol/stage-protocol.js';
import { foldDataProperties, foldOptions, trainerInputs } from '../runtime/trainer-ports.js';
import { runnerOptions, scriptVariant } from './script/declaration.js';

/** Built from scratch by models.ts (simple_cnn, resnet and mobilenet keep their cache keys). */
export const SCRATCH_ARCHS = ['simple_cnn', 'resnet', 'mobilenet', 'simple_cnn_dense'] as const;
/** torchvision's layouts and state_dict keys (archs/registry.ts). */
export const TORCHVISION_ARCHS = ['resnet18', 'resnet34', 'resnet50', 'mobilenet_v3_small', 'mobilenet_v3_large', 'efficientnet_b0', 'convnext_tiny'] as const;
/** Backbones that ship in npm packages (npm-backbones/registry.ts): `model.weights: npm:<name>`, and the model.arch each one is. */
export const NPM_BACKBONES = { 'nsfwjs/mobilenet_v2': 'mobilenet_v2', '@vladmandic/face-api/face_recognition': 'dlib_face_resnet' } as const;
const NPM_ARCHS = [...new Set(Object.values(NPM_BACKBONES))];
/** The smallest input each backbone's downsampling takes (data.size). */
const MIN_SIZE: [readonly string[], number, string][] = [
  [TORCHVISION_ARCHS, 32, 'a torchvision architecture downsamples 32x: data.size >= 32 (its recipe is 224)'],
  [['mobilenet_v2'], 32, 'mobilenet_v2 downsamples 32x: data.size >= 32 (its recipe is 224)'],
  [['dlib_face_resnet'], 131, "dlib_face_resnet's valid-padded downsampling needs data.size >= 131 (its recipe is 150)"],
];

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
  options: {
    ...foldOptions,
    properties: { ...(foldOptions.properties as Record<string, unknown>), ...runnerOptions },
    allOf: [
      { if: { required: ['runner'] }, then: { required: ['script'] } },
      { if: { required: ['script'] }, then: { required: ['runner'] } },
      { if: { required: ['python'] }, then: { required: ['runner'], properties: { runner: { const: 'python' } } } },
    ],
  },
  variants: { runner: scriptVariant },
  paramPaths: { 'model.weights': 'the backbone\'s pretrained weights' },
  params: {
  type: 'object',
  required: ['seed', 'model', 'data', 'train'],
  properties: {
    seed: { type: 'integer' },
    task: { enum: ['binary', 'multiclass', 'regression'], description: "overrides the task the dataset's labels (or data.target) imply" },
    model: {
      type: 'object',
      required: ['arch'],
      properties: {
        arch: {
          enum: [...SCRATCH_ARCHS, ...TORCHVISION_ARCHS, ...NPM_ARCHS],
          description: 'from scratch: simple_cnn (global-average-pooled), simple_cnn_dense (conv-pool blocks, flattened dense head with dropout), resnet, mobilenet; torchvision layouts: resnet18 ... convnext_tiny; from npm packages: mobilenet_v2 (npm:nsfwjs/mobilenet_v2), dlib_face_resnet (npm:@vladmandic/face-api/face_recognition)',
        },
        width: { type: 'integer', minimum: 1, default: 16 },
        depth: { type: 'integer', minimum: 1, default: 1 },
        dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.5, description: "simple_cnn_dense: dropout before the last layer" },
        weights: {
          type: 'string',
          minLength: 1,
          description: "a torchvision state_dict (.pth/.pt or .safetensors, project-relative) for the backbone, its content in the key; or npm:<package>/<model>, a backbone an installed package ships, the package's version in the key",
          if: { pattern: '^npm:' },
          then: { enum: Object.keys(NPM_BACKBONES).map((name) => `npm:${name}`), description: 'the backbones that ship in npm packages' },
        },
        weights_strict: { type: 'boolean', default: true, description: 'false: load the keys that match and list the rest' },
      },
    },
    data: {
      type: 'object',
      properties: {
        ...foldDataProperties,
        size: { type: 'integer', minimum: 8, description: "the input edge in pixels (default: the backbone's recipe, 224 for torchvision's and mobilenet_v2, 150 for dlib_face_resnet; 32 from scratch)" },
        targets: {
          type: 'object',
          minProperties: 1,
          description: 'several targets from one network: a head per target on the shared backbone, trained on the weighted sum of their losses (instead of data.target)',
          additionalProperties: {
            type: 'object',
            required: ['column'],
            additionalProperties: false,
            properties: {
              column: { type: 'string', minLength: 1, description: 'label, source, or a column of the manifest' },
              task: { enum: ['binary', 'multiclass', 'regression'], description: 'what the column implies when left out (numbers: regression; two values: binary)' },
              loss: { enum: ['mse', 'huber'], description: 'regression: squared or Huber loss on the standardised target (default mse)' },
              weight: { type: 'number', exclusiveMinimum: 0, default: 1, description: "this target's share of the summed loss" },
            },
          },
        },
        monitor: { type: 'string', minLength: 1, description: "with targets: early stopping on this target's metric (AUC, macro AUC, MAE), or `loss` for the weighted total; default the first target" },
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
        augment: {
          oneOf: [
            { type: 'boolean' },
            {
              type: 'object',
              additionalProperties: false,
              properties: {
                flip: { type: 'boolean', default: true, description: 'mirror half the images left to right (off for digits, text, anything whose side matters)' },
                shift: { type: 'number', minimum: 0, maximum: 0.5, default: 0.125, description: 'the largest shift, a fraction of the side' },
                brightness: { type: 'number', minimum: 0, maximum: 1, default: 0.2, description: 'width of the uniform brightness offset' },
                contrast: { type: 'number', minimum: 0, maximum: 1, default: 0.3, description: 'width of the uniform contrast factor around 1' },
              },
            },
          ],
          default: false,
          description: 'true: a flip, a shift of up to 1/8 of the side, brightness and contrast jitter; an object changes some of them, e.g. { flip: false }',
        },
        normalization: { enum: ['imagenet', 'real', 'backbone'], description: "imagenet (ImageNet's mean/std), real (the real training images'), backbone (what the backbone was trained with); default: backbone for a pretrained arch, else imagenet" },
        loss: { enum: ['mse', 'huber'], default: 'mse', description: 'regression: squared or Huber loss on the standardised target' },
        monitor: { enum: ['default', 'loss'], default: 'default', description: "early stopping watches the task's metric (AUC; macro one-vs-rest AUC; MAE) or the validation loss" },
        backend: { enum: ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] },
        freeze: {
          oneOf: [{ enum: ['none', 'backbone'] }, { type: 'object', required: ['until'], additionalProperties: false, properties: { until: { type: 'string', minLength: 1 } } }],
          default: 'none',
          description: 'torchvision archs: backbone (features computed once and cached; only the head trains), none (fine-tune everything), or { until: <module> } (freeze up to and including it, e.g. layer3)',
        },
        lr_backbone: { type: 'number', exclusiveMinimum: 0, description: 'the learning rate of the backbone when it trains (default: train.lr); the head keeps train.lr' },
        schedule: { enum: ['cosine', 'onecycle', 'step', 'constant'], default: 'cosine', description: "the learning rate: cosine annealing per epoch, PyTorch's OneCycleLR per step (max_lr = train.lr), StepLR (x gamma every step_size epochs), or constant" },
        onecycle: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            div_factor: { type: 'number', exclusiveMinimum: 0, default: 25, description: 'initial lr = lr / div_factor' },
            final_div_factor: { type: 'number', exclusiveMinimum: 0, default: 10000, description: 'final lr = initial lr / final_div_factor' },
            pct_start: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.3, description: 'the share of the steps spent rising' },
          },
        },
        step_size: { type: 'integer', minimum: 1, description: 'schedule: step: epochs between decays (default: a third of the epochs)' },
        gamma: { type: 'number', exclusiveMinimum: 0, default: 0.1, description: 'schedule: step: the factor at each decay' },
        dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0, description: 'dropout before the output layer, any architecture' },
        l1: { type: 'number', minimum: 0, default: 0, description: 'L1 penalty on the kernels (a subgradient step lr * l1 * sign(w) beside the decay)' },
        balance: {
          type: 'object',
          required: ['by', 'method'],
          additionalProperties: false,
          description: 'rebalances training by group: oversample draws each smaller group up to the largest every epoch (with augmentation when it is on); weights weighs each image\'s loss by N / (groups x n_group)',
          properties: {
            by: { type: 'string', minLength: 1, description: 'label, source, or a manifest column (an image property, a grouping such as age)' },
            method: { enum: ['oversample', 'weights'] },
            edges: { type: 'array', items: { type: 'number' }, minItems: 1, description: "a numeric column's inner bin edges (age groups)" },
            bins: { type: 'integer', minimum: 2, maximum: 20, description: 'equal-count bins of a numeric column (default 4)' },
          },
        },
        bn: { enum: ['train', 'frozen'], default: 'train', description: "the backbone's batch norm: train (batch statistics, running averages updated) or frozen (running statistics, as in evaluation)" },
      },
    },
  },
  allOf: [
    ...MIN_SIZE.map(([archs, minimum, description]) => ({
      if: { properties: { model: { properties: { arch: { enum: [...archs] } } } } },
      then: { properties: { data: { properties: { size: { minimum, description } } } } },
    })),
    {
      if: { properties: { train: { properties: { freeze: { not: { const: 'none' } } } , required: ['freeze'] } }, required: ['train'] },
      then: { properties: { model: { required: ['weights'], description: 'train.freeze other than none keeps pretrained layers as they are: model.weights names them' } } },
    },
    {
      if: { properties: { model: { required: ['weights'], properties: { weights: { not: { pattern: '^npm:' } } } } } },
      then: { properties: { model: { properties: { arch: { enum: [...TORCHVISION_ARCHS], description: 'model.weights loads a torchvision state_dict: model.arch must be a torchvision architecture' } } } } },
    },
    ...Object.entries(NPM_BACKBONES).flatMap(([name, arch]) => [
      {
        if: { properties: { model: { required: ['weights'], properties: { weights: { const: `npm:${name}` } } } } },
        then: { properties: { model: { properties: { arch: { const: arch, description: `npm:${name} is a ${arch}: model.arch: ${arch}` } } } } },
      },
      {
        if: { properties: { model: { required: ['arch'], properties: { arch: { const: arch } } } } },
        then: { properties: { model: { required: ['weights'], description: `${arch} is built from the package that ships it: model.weights: npm:${name}` } } },
      },
    ]),
  ],
},
};
