import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface ExplainRow {
  model: string;
  method: string;
  images: number;
  /** Seconds of the explain stage (its process, Node and TensorFlow.js starting, included). */
  explain: number;
  /** Seconds inside the stage (models loaded, maps, shares, pictures written), from its log. */
  inStage: number;
  /** Seconds inside the stage once the backend was up: what an epoch's time also leaves out. */
  work: number;
  /** Seconds of that computing the maps. */
  maps: number;
  /** The median epoch of the same experiment's training, from its log. */
  epoch: number;
}

const MODELS: { name: string; config: string; method: string }[] = [
  { name: 'simple_cnn 24 px (the bundled default)', config: 'model: { arch: simple_cnn, width: 16, depth: 1 }\ndata: { size: 24 }', method: 'gradcam' },
  { name: 'simple_cnn_dense 32 px', config: 'model: { arch: simple_cnn_dense, width: 16, depth: 1 }\ndata: { size: 32 }', method: 'gradcam' },
  { name: 'resnet 32 px', config: 'model: { arch: resnet, width: 16, depth: 2 }\ndata: { size: 32 }', method: 'gradcam' },
  { name: 'simple_cnn 24 px', config: 'model: { arch: simple_cnn, width: 16, depth: 1 }\ndata: { size: 24 }', method: 'occlusion' },
];

/**
 * The yardstick: explaining 40 images of one experiment (8 hardest false positives, 8
 * false negatives, 6 per class x source over 4 groups) against one training epoch of it, on the
 * bundled study's data (synth-faces, 5 folds; one fold trained and explained).
 */
export function explainCost(root: string, cli: string): ExplainRow[] {
  const dir = path.join(root, 'explain');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'configs/exp'), { recursive: true });
  writeFileSync(path.join(dir, 'configs/dataset.yaml'), 'seed: 42\ndata: { identities: 100, real_per_identity: 2, fake_per_identity: 3, size: 48, geometry_shortcut: true }\ncv: { folds: 5, stratify: label }\nfacecrop: {}\n');
  MODELS.forEach((m, i) => writeFileSync(path.join(dir, `configs/exp/m${i}.yaml`), `seed: 42\n${m.config}\ntrain: { epochs: 4, batch_size: 8, lr: 0.003, patience: 4 }\n`));
  const explainStages = MODELS.map((m, i) => `  explain_m${i}: { uses: explain, with: { experiment: m${i}, method: ${m.method}, errors: 8, per_group: 6 }, params: configs/exp/m${i}.yaml, deps: { runs: outputs/runs/m${i}, splits: outputs/splits.json, dataset: data/raw, cropped: data/cropped }, outs: { explain: outputs/explain/m${i} } }`);
  writeFileSync(
    path.join(dir, 'pipeline.yaml'),
    [
      'params: [configs/dataset.yaml]',
      'stages:',
      '  data: { uses: synth-faces, params: [seed, data], outs: { dataset: data/raw } }',
      '  facecrop: { uses: facecrop, deps: { dataset: data/raw }, params: [facecrop], outs: { cropped: data/cropped } }',
      '  split: { uses: split, deps: { dataset: data/raw }, params: [seed, cv], outs: { splits: outputs/splits.json } }',
      '  train:',
      '    matrix: { exp: "configs/exp/*.yaml", fold: [0] }',
      '    uses: train',
      '    with: { fold: "${fold}" }',
      '    deps: { splits: outputs/splits.json, dataset: data/raw }',
      '    params: ${exp}',
      '    outs: { run: "outputs/runs/${exp.name}/fold${fold}" }',
      ...explainStages,
      '',
    ].join('\n'),
  );
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`pipeline ${args.join(' ')}: ${r.stderr.slice(-2000)}`);
    return r.stdout;
  };
  run(['run', '-j', '1', 'train']);
  const rows = MODELS.map((m, i) => {
    const events = run(['run', '-j', '1', `explain_m${i}`, '--json']).trim().split('\n').map((l) => JSON.parse(l) as { event: string; stage?: string; duration_ms?: number });
    const finished = events.find((e) => e.event === 'finished' && e.stage === `explain_m${i}`)!;
    const epochs = [...readFileSync(path.join(dir, `cache/logs/train@exp=m${i},fold=0.log`), 'utf8').matchAll(/epoch \d+: ([\d.]+) s/g)].map((x) => Number(x[1])).sort((a, b) => a - b);
    const log = readFileSync(path.join(dir, `cache/logs/explain_m${i}.log`), 'utf8').match(/explained in ([\d.]+) s once the backend was up \(([\d.]+) s before\), ([\d.]+) s of it computing the maps/)!;
    const explained = JSON.parse(readFileSync(path.join(dir, `outputs/explain/m${i}/explanations.json`), 'utf8')) as { images: unknown[] };
    return { model: m.name, method: m.method, images: explained.images.length, explain: finished.duration_ms! / 1000, inStage: Number(log[1]) + Number(log[2]), work: Number(log[1]), maps: Number(log[3]), epoch: epochs[Math.floor(epochs.length / 2)]! };
  });
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

export function explainTable(rows: readonly ExplainRow[]): string {
  const lines = [
    '',
    '| explain (synth-faces, 400 training images, 1 fold, wasm, 2 cores) | method | images | stage, process included (s) | in the stage (s) | once the backend is up (s) | of it, the maps (s) | one training epoch (s) | backend up / epoch | goal <= 1x |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) lines.push(`| ${r.model} | ${r.method} | ${r.images} | ${r.explain.toFixed(2)} | ${r.inStage.toFixed(2)} | ${r.work.toFixed(2)} | ${r.maps.toFixed(2)} | ${r.epoch.toFixed(2)} | ${(r.work / r.epoch).toFixed(2)}x | ${r.work <= r.epoch ? 'met' : 'NOT met'} |`);
  return lines.join('\n') + '\n';
}
