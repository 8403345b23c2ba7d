import type { Task } from '../../stages/images/task.js';
/**
 * The files `pipeline init --images` writes: a small binary study on the researcher's images,
 * sized so that a few thousand images train on a CPU in minutes.
 */

export interface StudyTemplate {
  /** The images input as the user named it (a folder or a CSV), relative to the project. */
  images: string;
  /** With a CSV: the folder its images are in (a dep, so an edited image reruns the stage). */
  files?: string;
  task: Task;
  /** The class to detect (binary studies). */
  positive?: string;
  classes: { name: string; count: number }[];
  facecrop: boolean;
  /** tfjs: the built-in trainer's experiments; pytorch: train.py (templates/pytorch) beside one built-in CNN. */
  trainer: 'tfjs' | 'pytorch';
  /** The interpreter that imports torch, where `python3` on PATH does not (written as with.python). */
  python?: string;
}

const SCHEMA = 'node_modules/pipeline/schema/pipeline.schema.json';

/**
 * How the study's defaults scale with the data set, so that it runs in minutes on a CPU: up to
 * 1,000 images 5 folds of 6 epochs; above that 3 folds; above 2,000 images fewer epochs, so
 * that each fold sees about as many images as at 2,000 (at least 2). README "Your own data".
 * (At 1,797 digit scans, 3 epochs left the ResNet and the augmented CNN below the probe.)
 */
export function studySize(images: number): { folds: number; epochs: number } {
  return { folds: images <= 1000 ? 5 : 3, epochs: images <= 2000 ? 6 : Math.max(2, Math.round((6 * 2000) / images)) };
}

const imageCount = (t: StudyTemplate) => t.classes.reduce((sum, c) => sum + c.count, 0);

export function pipelineYaml(t: StudyTemplate): string {
  const classes = t.task === 'regression' ? `a numeric target (${t.classes.length} distinct values)` : t.classes.map((c) => `${c.name} (${c.count})`).join(', ');
  const describe = t.task === 'binary' ? `A binary study on ${t.images}: ${classes}; positive class: ${t.positive}.` : t.task === 'multiclass' ? `A ${t.classes.length}-class study on ${t.images}: ${classes}.` : `A regression study on ${t.images}: ${classes}.`;
  const images = t.task === 'binary' ? `{ positive: ${t.positive} }     # add group_pattern` : `{ task: ${t.task} }     # add group_pattern`;
  const folds = Array.from({ length: studySize(imageCount(t)).folds }, (_, i) => i).join(', ');
  const trainInputs = `splits: outputs/splits.json, dataset: data/dataset${t.facecrop ? ', cropped: data/cropped' : ''}`;
  return `# yaml-language-server: $schema=${SCHEMA}
# ${describe}
# Run it with \`npx pipeline run report\`, then open outputs/report/index.html.
# Each experiment is a file in configs/phase1/ (extends configs/shared.yaml); add one and only it trains.
version: 1
params: [configs/dataset.yaml]
stages:
  images:
    uses: images                        # your images, read in place; unreadable files are listed, not fatal
    with: ${images}: '^([^_]+)_' to keep one subject's images in one fold
    deps: { images: ${t.images}${t.files ? `, files: ${t.files}` : ''} }
    outs: { dataset: data/dataset }
  eda:
    uses: eda
    deps: { dataset: data/dataset }
    outs: { eda: outputs/eda }
  split:
    uses: split
    deps: { dataset: data/dataset }
    params: [seed, cv]
    outs: { splits: outputs/splits.json }
${
  t.facecrop
    ? `  facecrop:
    uses: facecrop
    deps: { dataset: data/dataset }
    params: [facecrop]
    outs: { cropped: data/cropped }
`
    : ''
}  train:
    matrix:
      exp: configs/phase1/*.yaml        # one entry per experiment config
      fold: [${folds}]
    uses: train
    with: { fold: "\${fold}" }
    deps: { ${trainInputs} }
    params: \${exp}
    resources: { gpu: 0.5 }
    outs: { run: "outputs/runs/\${exp.name}/fold\${fold}" }
${t.trainer === 'pytorch' ? torchStage(t, folds, trainInputs) : ''}  baseline:                             # logistic regression on pixels, same folds: what the networks must beat
    matrix:
      exp: configs/baseline/*.yaml
      fold: [${folds}]
    uses: baseline
    with: { fold: "\${fold}" }
    deps: { splits: outputs/splits.json, dataset: data/dataset }
    params: \${exp}
    outs: { run: "outputs/runs/\${exp.name}/fold\${fold}" }
  aggregate:
    matrix: { exp: "configs/{phase1,${t.trainer === 'pytorch' ? 'phase1-pytorch,' : ''}baseline}/*.yaml" }
    uses: aggregate
    with: { experiment: "\${exp.name}" }
    deps: { runs: "outputs/runs/\${exp.name}" }
    outs: { results: "outputs/results/\${exp.name}.json" }
  report:
    uses: report
    deps: { results: outputs/results, eda: outputs/eda, configs: configs, runs: outputs/runs, dataset: data/dataset }
    outs: { report: outputs/report }
`;
}

function torchStage(t: StudyTemplate, folds: string, trainInputs: string): string {
  return `  train_torch:                          # your PyTorch trainer (train.py): the same folds and files as train, checked on exit
    matrix:
      exp: configs/phase1-pytorch/*.yaml       # one entry per PyTorch experiment (each extends ../torch.yaml)
      fold: [${folds}]
    uses: train
    with: { fold: "\${fold}", runner: python, script: train.py${t.python ? `, python: ${t.python}` : ''} }
    deps: { ${trainInputs} }
    params: \${exp}
    resources: { gpu: 1 }               # pipeline run --gpus 0,1 gives each fold its own CUDA_VISIBLE_DEVICES
    outs: { run: "outputs/runs/\${exp.name}/fold\${fold}" }
`;
}

/** The PyTorch experiments `init --trainer pytorch` writes beside the built-in CNN they are compared with. */
function torchConfigs(t: StudyTemplate, epochs: number): Record<string, string> {
  return {
    'configs/torch.yaml': `# Shared by the PyTorch experiments in configs/phase1-pytorch/ (train.py reads these; add keys as your script needs).
seed: 42
model: { arch: resnet18 }               # any torchvision.models builder, from scratch
# Pretrained: model: { arch: resnet18, weights: weights/resnet18-f37072fd.pth } with data.size: 224, e.g.
#   mkdir weights && cp ~/.cache/torch/hub/checkpoints/resnet18-f37072fd.pth weights/   (torchvision's cache)
#   or timm's model.safetensors for a resnet (same layout); train: { freeze: backbone } trains only the head
data: { input: raw, size: 64, fraction: 1, eval_geometry: same }
train: { epochs: ${epochs}, batch_size: 32, lr: 0.002, weight_decay: 0.0001, patience: 3, augment: false, workers: 2 }
`,
    'configs/phase1-pytorch/torch_resnet18.yaml': 'extends: ../torch.yaml\n',
    'configs/phase1-pytorch/torch_resnet18_augment.yaml': 'extends: ../torch.yaml\n# flips and shifts of up to 5%; another architecture is one line: model: { arch: efficientnet_b0 }\ntrain: { augment: true }\n',
  };
}

export function studyConfigs(t: StudyTemplate): Record<string, string> {
  const { folds, epochs } = studySize(imageCount(t));
  const files: Record<string, string> = {
    'configs/dataset.yaml': `# The split every experiment shares: same seed, same folds, so differences between experiments are paired.
seed: 42
cv:
  folds: ${folds}${folds < 5 ? `                 # ${imageCount(t)} images: 3 folds keep the study within minutes on a CPU (5 is the default up to 1,000)` : ''}
  stratify: label
${t.facecrop ? 'facecrop: { margin: 0.25, size: 64, min_score: 0.3, input_size: 160 }\n' : ''}`,
    'configs/shared.yaml': `# Shared by every experiment (each extends ../shared.yaml). Sized for a CPU: a few thousand
# images at 32 px train in minutes per fold; on a GPU try -S data.size=96 -S train.epochs=30.
seed: 42
model: { arch: simple_cnn_dense, width: 16, depth: 1, dropout: 0.5 }
data:
  input: raw
  size: 32
  fraction: 1
  eval_geometry: same
train:
  epochs: ${epochs}${epochs < 6 ? `                   # ${imageCount(t)} images: each fold sees about as many as 6 epochs of 2,000` : ''}
  batch_size: 32
  lr: 0.004
  weight_decay: 0.0001
  patience: 3
  augment: false
  normalization: imagenet
`,
    'configs/baseline/probe_logreg.yaml': '# The baseline probe on 16 x 16 pixels: L2 logistic regression (one-vs-rest for several classes; ridge for a numeric target). Not extending shared.yaml: tuning the networks never reruns it.\ndata: { input: raw, fraction: 1, eval_geometry: same }\nprobe: { pixels: 16, C: 1 }\n',
    'configs/phase1/cnn.yaml': 'extends: ../shared.yaml\n',
    // Residual nets from scratch converge later: on 1,797 digit scans ResNet reached 0.937 accuracy at 6 epochs, 0.988 at 10.
    'configs/phase1/resnet.yaml': `extends: ../shared.yaml\nmodel: { arch: resnet, width: 8, depth: 1 }\ntrain: { epochs: ${Math.round((epochs * 5) / 3)} }   # 5/3 of the shared epochs: a residual net from scratch converges later\n`,
    'configs/phase1/cnn_augment.yaml': 'extends: ../shared.yaml\n# Shifts of up to 1/8 of the side, brightness and contrast jitter. No flips: a mirrored digit or\n# letter is another symbol (1,797 digit scans: accuracy 0.89 with flips, 0.97 without); for faces and\n# most photos, where a mirror image keeps its label, use augment: true (flips too).\ntrain: { augment: { flip: false } }\n',
    'configs/phase1/pretrained.yaml': `extends: ../shared.yaml
# ImageNet-pretrained MobileNetV2 (Keras's, as the nsfwjs package ships it: no download): each
# image's features once, at its recipe's 224 px, cached for every head; only a linear head
# trains, which a CPU does in seconds (so it gets 100 epochs at a higher rate: at 20 it was still
# learning). On a GPU, fine-tune it instead:
#   train: { freeze: { until: block_12 }, lr_backbone: 0.0003, bn: frozen }   (or freeze: none)
# Weights of your own: model: { arch: resnet18, weights: weights/resnet18.pth } (torchvision's state_dict).
model: { arch: mobilenet_v2, weights: "npm:nsfwjs/mobilenet_v2" }
data: { size: 224 }
train: { freeze: backbone, normalization: backbone, epochs: 100, patience: 10, lr: 0.01 }
`,
    'configs/study.yaml': `# How the report reads each experiment: its phase, the question, a label, and the baseline it is compared with.
experiments:
  cnn: { phase: 1, question: architecture, label: simple_cnn_dense, model: simple_cnn_dense, fraction: 1 }
  resnet: { phase: 1, question: architecture, label: resnet-8x1, baseline: cnn, model: resnet, fraction: 1 }
  cnn_augment: { phase: 1, question: augmentation, label: shift + colour jitter, baseline: cnn }
  pretrained: { phase: 1, question: pretraining, label: "ImageNet MobileNetV2, frozen features + linear head", baseline: cnn }
${t.facecrop ? '  cnn_facecrop: { phase: 1, question: face crop, label: trained on face crops, baseline: cnn }\n' : ''}`,
  };
  if (t.facecrop) files['configs/phase1/cnn_facecrop.yaml'] = 'extends: ../shared.yaml\ndata: { input: cropped }\n';
  if (t.trainer === 'tfjs') return files;
  // PyTorch: the built-in CNN stays as the reference the PyTorch experiments are compared with.
  for (const name of ['resnet', 'cnn_augment', 'pretrained']) delete files[`configs/phase1/${name}.yaml`];
  files['configs/study.yaml'] = `# How the report reads each experiment: its phase, the question, a label, and the baseline it is compared with.
experiments:
  cnn: { phase: 1, question: trainer, label: "built-in simple_cnn_dense (TensorFlow.js)", model: simple_cnn_dense, fraction: 1 }
  torch_resnet18: { phase: 1, question: trainer, label: "PyTorch ResNet-18 (train.py)", baseline: cnn }
  torch_resnet18_augment: { phase: 1, question: augmentation, label: "PyTorch ResNet-18, flips + shifts (train.py)", baseline: torch_resnet18 }
${t.facecrop ? '  cnn_facecrop: { phase: 1, question: face crop, label: trained on face crops, baseline: cnn }\n' : ''}`;
  return { ...files, ...torchConfigs(t, studySize(imageCount(t)).epochs) };
}

/** What a study's clone should not commit: pipeline's own state and everything it rebuilds. */
export const GITIGNORE_LINES = ['cache/', '.pipeline/', 'outputs/', 'data/dataset/', 'data/cropped/', 'node_modules/'];
