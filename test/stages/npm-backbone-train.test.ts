import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cli, linkNodeModules, makeProject } from '../helpers.js';
import { TRAIN_STUDY_PIPELINE } from '../support/train-study.js';

/**
 * `train` on a backbone an npm package ships, in a researcher's project (its node_modules):
 * no weights file, the package's version in the key, the recipe's size and normalisation, and
 * a wrong name or arch refused at load.
 */
const nodeModules = fileURLToPath(new URL('../../../node_modules', import.meta.url));
const made: string[] = [];
after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function study(experiments: Record<string, string>, installed = true): string {
  const files: Record<string, string> = {
    'configs/dataset.yaml': 'seed: 7\ndata: { identities: 6, real_per_identity: 2, fake_per_identity: 2, size: 48, geometry_shortcut: true }\ncv: { folds: 2, stratify: label }\n',
    'pipeline.yaml': TRAIN_STUDY_PIPELINE,
  };
  for (const [name, text] of Object.entries(experiments)) files[`configs/exp/${name}.yaml`] = text;
  const dir = makeProject(files);
  made.push(dir);
  if (installed) linkNodeModules(dir);
  return dir;
}

/** A project whose node_modules holds its own copy of face-api's descriptor model (so its version can change). */
function withFaceApiCopy(dir: string): void {
  const from = path.join(nodeModules, '@vladmandic/face-api');
  const to = path.join(dir, 'node_modules/@vladmandic/face-api');
  mkdirSync(path.join(to, 'model'), { recursive: true });
  copyFileSync(path.join(from, 'package.json'), path.join(to, 'package.json'));
  for (const file of ['face_recognition_model-weights_manifest.json', 'face_recognition_model.bin']) copyFileSync(path.join(from, 'model', file), path.join(to, 'model', file));
}

describe('train on a backbone from an npm package', () => {
  it("trains a head on face-api's face descriptor, at its recipe's 150 px, with the package's package.json in the key", () => {
    const dir = study({ face: 'seed: 3\nmodel: { arch: dlib_face_resnet, weights: "npm:@vladmandic/face-api/face_recognition" }\ndata: {}\ntrain: { freeze: backbone, epochs: 2, batch_size: 8, lr: 0.01 }\n' }, false);
    withFaceApiCopy(dir);
    const r = cli(dir, ['run', '-j', '1'], { PIPELINE_TF_BACKEND: 'wasm' });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const metrics = JSON.parse(readFileSync(path.join(dir, 'outputs/runs/face/fold0/metrics.json'), 'utf8')) as { val: { auc: number }; parameters: number };
    assert.ok(metrics.val.auc >= 0 && metrics.val.auc <= 1);
    const model = JSON.parse(readFileSync(path.join(dir, 'outputs/runs/face/fold0/model.json'), 'utf8')) as { modelTopology: { config: { layers: { config: { batch_input_shape?: number[] } }[] } } };
    assert.deepEqual(model.modelTopology.config.layers[0]!.config.batch_input_shape, [null, 150, 150, 3], "the recipe's size");
    assert.equal(readdirSync(path.join(dir, '.pipeline/stage-cache/train/features')).length, 1);

    const status = cli(dir, ['status']);
    assert.equal(status.code, 0);
    assert.doesNotMatch(status.stdout, /train@exp=face/, 'a rerun is a cache hit');
    const manifest = path.join(dir, 'node_modules/@vladmandic/face-api/package.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/"version": "[^"]+"/, '"version": "1.7.99"'));
    assert.match(cli(dir, ['status']).stdout, /train@exp=face,fold=0/, "another version of the package, another key");
  });

  it('a wrong name, a mismatched arch and a missing package are refused at load, naming the config line', () => {
    const dir = study({
      unknown: 'seed: 1\nmodel: { arch: mobilenet_v2, weights: "npm:nsfwjs/inception_v3" }\ndata: {}\ntrain: {}\n',
      mismatch: 'seed: 1\nmodel: { arch: resnet18, weights: "npm:nsfwjs/mobilenet_v2" }\ndata: {}\ntrain: {}\n',
      alone: 'seed: 1\nmodel: { arch: dlib_face_resnet }\ndata: {}\ntrain: {}\n',
      small: 'seed: 1\nmodel: { arch: dlib_face_resnet, weights: "npm:@vladmandic/face-api/face_recognition" }\ndata: { size: 96 }\ntrain: {}\n',
    });
    const r = cli(dir, ['validate']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /configs\/exp\/unknown\.yaml:2:39: model\.weights must be one of: npm:nsfwjs\/mobilenet_v2, npm:@vladmandic\/face-api\/face_recognition \(got "npm:nsfwjs\/inception_v3"\)/);
    assert.match(r.stderr, /configs\/exp\/mismatch\.yaml:2:16: model\.arch must be mobilenet_v2 \(got "resnet18"[^\n]*npm:nsfwjs\/mobilenet_v2 is a mobilenet_v2/);
    assert.match(r.stderr, /configs\/exp\/alone\.yaml:2:1: model\.weights is needed[^\n]*dlib_face_resnet is built from the package that ships it: model\.weights: npm:@vladmandic\/face-api\/face_recognition/);
    assert.match(r.stderr, /configs\/exp\/small\.yaml:3:15: data\.size must be >= 131 \(got 96/);

    const bare = study({ face: 'seed: 1\nmodel: { arch: mobilenet_v2, weights: "npm:nsfwjs/mobilenet_v2" }\ndata: {}\ntrain: {}\n' }, false);
    const missing = cli(bare, ['validate']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /configs\/exp\/face\.yaml:2:39: model\.weights: npm:nsfwjs\/mobilenet_v2: the package nsfwjs is not installed in .* or a folder above it \(npm install nsfwjs\)/);
  });
});
