import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cli, makeProject, tempDir } from '../helpers.js';
import { torchPython } from '../support/torch-python.js';
import { webgpuUnavailable } from '../support/webgpu-adapter.js';
import { decodeImage } from '../../stages/runtime/decoded-shards.js';
import { massShares } from '../../stages/explain/heatmap.js';
import { toInput } from '../../stages/explain/face-boxes.js';
import { selectImages } from '../../stages/explain/selection.js';
import { explainSection } from '../../stages/report/explain-section.js';
import type { ExplanationsFile } from '../../stages/explain/index.js';

/**
 * `explain`: Grad-CAM and occlusion maps of real `train` models on real images, checked against
 * the same network rebuilt in PyTorch (test/fixtures/explain/reference.py: forward and backward
 * hooks, pytorch-grad-cam's recipe); the face and border shares on heatmaps with known answers.
 */
const python = torchPython();
const reference = fileURLToPath(new URL('../../../test/fixtures/explain/reference.py', import.meta.url));
const made: string[] = [];
after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const explainStage = (name: string, exp: string, extra = '') =>
  [
    `  ${name}:`,
    `    matrix: { exp: "${exp}" }`,
    '    uses: explain',
    `    with: { experiment: "\${exp.name}"${extra} }`,
    '    deps: { runs: "outputs/runs/${exp.name}", splits: outputs/splits.json, dataset: data/raw, cropped: data/cropped }',
    '    params: ${exp}',
    `    outs: { explain: "outputs/${name}/\${exp.name}" }`,
  ].join('\n');

function study(): string {
  const dir = makeProject({
    'configs/dataset.yaml': 'seed: 7\ndata: { identities: 10, real_per_identity: 2, fake_per_identity: 2, size: 48, geometry_shortcut: true }\ncv: { folds: 2, stratify: label }\nfacecrop: {}\n',
    'configs/exp/cnn.yaml': 'seed: 7\nmodel: { arch: simple_cnn, width: 8, depth: 1 }\ndata: { size: 24 }\ntrain: { epochs: 2, batch_size: 8, lr: 0.01, patience: 2 }\n',
    'configs/multi/source.yaml': 'seed: 7\nmodel: { arch: simple_cnn, width: 8, depth: 1 }\ndata: { size: 24, target: source }\ntrain: { epochs: 2, batch_size: 8, lr: 0.01, patience: 2 }\n',
    'configs/multi/light.yaml': 'seed: 7\nmodel: { arch: simple_cnn, width: 8, depth: 1 }\ndata: { size: 24, target: light }\ntrain: { epochs: 2, batch_size: 8, lr: 0.01, patience: 2 }\n',
    'configs/probe/probe.yaml': 'data: { input: raw }\nprobe: { pixels: 12, C: 1.0 }\n',
    'pipeline.yaml': [
      'params: [configs/dataset.yaml]',
      'stages:',
      '  data: { uses: synth-faces, params: [seed, data], outs: { dataset: data/raw } }',
      '  facecrop: { uses: facecrop, deps: { dataset: data/raw }, params: [facecrop], outs: { cropped: data/cropped } }',
      '  split: { uses: split, deps: { dataset: data/raw }, params: [seed, cv], outs: { splits: outputs/splits.json } }',
      '  train:',
      '    matrix: { exp: "configs/{exp,multi}/*.yaml", fold: [0, 1] }',
      '    uses: train',
      '    with: { fold: "${fold}" }',
      '    deps: { splits: outputs/splits.json, dataset: data/raw }',
      '    params: ${exp}',
      '    outs: { run: "outputs/runs/${exp.name}/fold${fold}" }',
      '  baseline:',
      '    matrix: { exp: "configs/probe/*.yaml", fold: [0, 1] }',
      '    uses: baseline',
      '    with: { fold: "${fold}" }',
      '    deps: { splits: outputs/splits.json, dataset: data/raw }',
      '    params: ${exp}',
      '    outs: { run: "outputs/runs/${exp.name}/fold${fold}" }',
      explainStage('explain', 'configs/{exp,multi,probe}/*.yaml'),
      explainStage('occlusion', 'configs/exp/*.yaml', ', method: occlusion, patch: 4'),
      '',
    ].join('\n'),
  });
  made.push(dir);
  return dir;
}

interface Explanations {
  method: string;
  layer: string | null;
  size: number;
  occlusion?: { patch: number; fill: number[] };
  images: { path: string; fold: number; label: number; predicted: number; selection: string; face: string; face_box: number[] | null; face_share: number | null; border_share: number | null; heatmap: string; map: { rows: number; cols: number; values: number[] }; true_class?: { heatmap: string } }[];
  summary: { face_share: { mean: number | null; lo: number | null; hi: number | null; n: number }; by_source: Record<string, unknown> };
}

const readJson = <T>(dir: string, rel: string) => JSON.parse(readFileSync(path.join(dir, rel), 'utf8')) as T;

/** The reference maps for some explained images, from the fold's saved model rebuilt in PyTorch. */
async function torchMaps(dir: string, exp: Explanations, experiment: string, fold: number, fill: number[], patch: number) {
  const images = exp.images.filter((im) => im.fold === fold);
  const input = {
    size: exp.size,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    patch,
    fill,
    images: await Promise.all(images.map(async (im) => ({ pixels: Array.from(await decodeImage(path.join(dir, 'data/raw', im.path), exp.size, 'fill'), (v) => v / 255), unit: 0, sign: im.predicted === 1 ? 1 : -1 }))),
  };
  const work = tempDir('pipeline-explain-ref-');
  made.push(work);
  writeFileSync(path.join(work, 'in.json'), JSON.stringify(input));
  const r = spawnSync(python!, [reference, path.join(dir, `outputs/runs/${experiment}/fold${fold}`), path.join(work, 'in.json'), path.join(work, 'out.json'), 's2_conv'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { images, refs: (JSON.parse(readFileSync(path.join(work, 'out.json'), 'utf8')) as { images: { gradcam: number[]; upsampled: number[]; occlusion: number[] }[] }).images };
}

function assertClose(actual: readonly number[], expected: readonly number[], relative: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const scale = Math.max(1e-12, ...expected.map(Math.abs));
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= relative * scale, `${what}[${i}]: ${v} vs PyTorch ${expected[i]} (scale ${scale})`));
}

describe('explain: Grad-CAM and occlusion of the fold models, and where they look', () => {
  it('face and border shares on heatmaps with known answers; boxes through fill and letterbox', () => {
    const uniform = new Float32Array(100).fill(1);
    assert.deepEqual(massShares(uniform, 10, [0, 0, 5, 5]), { face_share: 0.25, border_share: 0.36 }, 'a quarter of the pixels in the box; the outer ring of 1 px is 36 of 100');
    const spot = new Float32Array(100);
    spot[55] = 3;
    spot[0] = 1;
    spot[1] = -5;
    assert.deepEqual(massShares(spot, 10, [4, 4, 6, 6]), { face_share: 0.75, border_share: 0.25 }, 'negative values carry no mass');
    assert.deepEqual(massShares(new Float32Array(100), 10, [0, 0, 5, 5]), { face_share: null, border_share: null });
    assert.equal(massShares(uniform, 10, undefined).face_share, null);
    assert.deepEqual(toInput([10, 20, 30, 40], 100, 200, 50, 'fill'), [5, 5, 20, 15]);
    assert.deepEqual(toInput([0, 0, 100, 200], 100, 200, 50, 'letterbox'), [12.5, 0, 37.5, 50], 'contain: scaled by the long side, centred');
  });

  it('the report warns when a network scores well while looking mostly outside the face, and says how the share moved', () => {
    const share = (mean: number, half: number) => ({ mean, lo: mean - half, hi: mean + half, n: 20 });
    const file = (face: ReturnType<typeof share>): ExplanationsFile => ({ experiment: 'x', task: 'binary', method: 'gradcam', layer: 's2_conv', images: [], summary: { face_share: face, border_share: share(0.3, 0.05), by_source: {}, faces_found: 20 } });
    const explanations = new Map([
      ['base', { file: file(share(0.3, 0.05)), dir: '.' }],
      ['better', { file: file(share(0.6, 0.05)), dir: '.' }],
      ['shortcut', { file: file(share(0.3, 0.1)), dir: '.' }],
    ]);
    const { md } = explainSection('2', [{ name: 'base', auc: 0.7 }, { name: 'better', auc: 0.9, baseline: 'base' }, { name: 'shortcut', auc: 0.95, baseline: 'base' }], explanations);
    const text = md.join('\n');
    assert.match(text, /\| better \| 0\.900 \| Grad-CAM \(s2_conv\) \| 0\.60 \[0\.55, 0\.65\] \| 0\.30 \[0\.25, 0\.35\] \| 0 \(20\) \| \+0\.30 vs base \(rises; intervals apart\) \|/);
    assert.match(text, /\*\*shortcut scores AUC 0\.950 while only 30% of its heatmap mass lies inside the face \(upper bound 40%\)/);
    assert.doesNotMatch(text, /\*\*base scores/, 'a weak network is not flagged');
    assert.doesNotMatch(text, /\*\*better scores/);
    const scale = explainSection('4', [{ name: 'base', auc: 0.7, model: 'cnn', fraction: 0.25 }, { name: 'better', auc: 0.9, model: 'cnn', fraction: 1 }], explanations).md.join('\n');
    assert.match(scale, /cnn: the share inside the face rises with more data \(0\.30 at 25% → 0\.60 at 100% of the training data; the end points' intervals are apart\)/);
  });

  it('the selection is the hardest errors of each kind and a fixed sample per class x source', () => {
    const work = tempDir('pipeline-explain-sel-');
    made.push(work);
    const rows = ['id,label,source,prob,pred', 'a.png,0,wiki,0.9,1', 'b.png,0,wiki,0.6,1', 'c.png,1,gan,0.1,0', 'd.png,1,gan,0.8,1', 'e.png,0,wiki,0.2,0', 'f.png,1,gan,0.7,1'];
    mkdirSync(path.join(work, 'fold0'));
    writeFileSync(path.join(work, 'fold0/oof.csv'), rows.join('\n') + '\n');
    const chosen = selectImages([{ fold: 0, dir: path.join(work, 'fold0') }], 'binary', 1, 1);
    assert.deepEqual(chosen.map((c) => [c.path, c.selection]).slice(0, 2), [['a.png', 'false_positive'], ['c.png', 'false_negative']]);
    assert.deepEqual(new Set(chosen.slice(2).map((c) => c.selection)), new Set(['sample']));
    assert.equal(chosen.length, 4, 'one per class x source beside the two errors');
    assert.deepEqual(selectImages([{ fold: 0, dir: path.join(work, 'fold0') }], 'binary', 1, 1), chosen, 'the same on every call');
  });

  it('Grad-CAM and occlusion equal PyTorch on the saved models; multi-class explains the true class too; the probe by occlusion; bad input is named', { skip: python ? false : 'no python3 with torch' }, async () => {
    const dir = study();
    const r = cli(dir, ['run', '-j', '2'], { PIPELINE_TF_BACKEND: 'wasm' });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const grad = readJson<Explanations>(dir, 'outputs/explain/cnn/explanations.json');
    assert.equal(grad.method, 'gradcam');
    assert.equal(grad.layer, 's2_conv', 'the feature map the global pooling reads');
    assert.ok(grad.images.some((im) => im.selection === 'false_positive' || im.selection === 'false_negative'));
    assert.ok(grad.images.some((im) => im.face === 'facecrop' && im.face_share !== null), "facecrop's boxes are used");
    assert.ok(grad.summary.face_share.n > 0 && grad.summary.face_share.mean! >= 0 && grad.summary.face_share.mean! <= 1);
    const occ = readJson<Explanations>(dir, 'outputs/occlusion/cnn/explanations.json');
    assert.equal(occ.method, 'occlusion');
    assert.deepEqual(occ.images.map((im) => im.path), grad.images.map((im) => im.path), 'one selection whatever the method');
    for (const fold of [0, 1]) {
      const { images, refs } = await torchMaps(dir, grad, 'cnn', fold, occ.occlusion!.fill, occ.occlusion!.patch);
      images.forEach((im, i) => assertClose(im.map.values, refs[i]!.gradcam, 1e-4, `fold ${fold} ${im.path} Grad-CAM`));
      const occImages = occ.images.filter((im) => im.fold === fold);
      occImages.forEach((im, i) => assertClose(im.map.values, refs[i]!.occlusion, 1e-4, `fold ${fold} ${im.path} occlusion`));
    }
    const multi = readJson<Explanations>(dir, 'outputs/explain/source/explanations.json');
    assert.ok(multi.images.some((im) => im.selection === 'error' && im.true_class), 'a multi-class error has its true class explained');
    const light = readJson<Explanations & { task: string }>(dir, 'outputs/explain/light/explanations.json');
    assert.equal(light.task, 'regression');
    assert.ok(light.images.filter((im) => im.selection === 'error').length === 16 && light.images.every((im) => im.map.values.some((v) => v > 0) || im.border_share === null), 'a regression head: the largest errors, explained');
    const probe = readJson<Explanations>(dir, 'outputs/explain/probe/explanations.json');
    assert.equal(probe.method, 'occlusion', 'the probe has no feature map: occlusion');
    assert.equal(probe.size, 12);

    const rerun = cli(dir, ['run', '--force', 'explain@exp=cnn'], { PIPELINE_TF_BACKEND: 'wasm' });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.deepEqual(readJson<Explanations>(dir, 'outputs/explain/cnn/explanations.json'), grad, 'byte-for-byte the same maps on a rerun');
    const noWebGpu = webgpuUnavailable();
    for (const backend of ['cpu', ...(noWebGpu ? [] : ['webgpu'])]) {
      const other = cli(dir, ['run', '--force', 'explain@exp=cnn'], { PIPELINE_TF_BACKEND: backend });
      assert.equal(other.code, 0, other.stderr);
      const maps = readJson<Explanations>(dir, 'outputs/explain/cnn/explanations.json');
      maps.images.forEach((im, i) => assertClose(im.map.values, grad.images[i]!.map.values, 1e-4, `${backend} vs wasm ${im.path}`));
    }

    writeFileSync(path.join(dir, 'pipeline.yaml'), read(dir, 'pipeline.yaml').replace("method: occlusion, patch: 4", 'layer: s9_conv'));
    const badLayer = cli(dir, ['run', 'occlusion@exp=cnn']);
    assert.notEqual(badLayer.code, 0);
    assert.match(badLayer.stderr + badLayer.stdout, /explain cnn: with: \{ layer: s9_conv \} is not a feature-map layer of simple_cnn_w8_d1; valid: s0_conv, s1_conv, s2_conv \(default: s2_conv\)/);
    writeFileSync(path.join(dir, 'configs/wrong.yaml'), read(dir, 'configs/exp/cnn.yaml').replace('simple_cnn', 'resnet'));
    mkdirSync(path.join(dir, 'empty'));
    writeFileSync(path.join(dir, 'empty/README.md'), 'no runs here\n');
    const misfits = [
      '  wrong_arch: { uses: explain, params: configs/wrong.yaml, deps: { runs: outputs/runs/cnn, splits: outputs/splits.json, dataset: data/raw }, outs: { explain: outputs/wrong } }',
      '  no_runs: { uses: explain, with: { experiment: nothing }, params: configs/exp/cnn.yaml, deps: { runs: empty, splits: outputs/splits.json, dataset: data/raw }, outs: { explain: outputs/none } }',
      '',
    ].join('\n');
    writeFileSync(path.join(dir, 'pipeline.yaml'), read(dir, 'pipeline.yaml') + misfits);
    const otherArch = cli(dir, ['run', 'wrong_arch']);
    assert.notEqual(otherArch.code, 0);
    assert.match(otherArch.stderr + otherArch.stdout, /outputs\/runs\/cnn\/fold0\/model\.json is a simple_cnn network, but the config's model\.arch is resnet/);
    const none = cli(dir, ['run', 'no_runs']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr + none.stdout, /experiment nothing: empty has no fold<k>\/oof\.csv/);
  });
});

function read(dir: string, rel: string): string {
  return readFileSync(path.join(dir, rel), 'utf8');
}

