import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cli, makeProject } from '../helpers.js';
import { TRAIN_STUDY_PIPELINE } from '../support/train-study.js';
import { torchPython } from '../support/torch-python.js';

/**
 * `train` on a torchvision backbone whose weights come from a .pth (torchvision's, made by the
 * fixture script): the file is a dep, freeze: backbone embeds each image once for every head,
 * fine-tuning trains with two learning rates, and bad weights are refused before training.
 */
const python = torchPython();
const script = fileURLToPath(new URL('../../../test/fixtures/torchvision/make_fixtures.py', import.meta.url));
const made: string[] = [];
after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function study(): string {
  const dir = makeProject({
    'configs/dataset.yaml': 'seed: 7\ndata: { identities: 8, real_per_identity: 2, fake_per_identity: 2, size: 32, geometry_shortcut: true }\ncv: { folds: 2, stratify: label }\n',
    'configs/shared.yaml': 'seed: 7\nmodel: { arch: resnet18, weights: weights/resnet18.pth }\ndata: { size: 32 }\ntrain: { epochs: 2, batch_size: 8, lr: 0.01, patience: 2 }\n',
    'configs/exp/frozen_a.yaml': 'extends: ../shared.yaml\ntrain: { freeze: backbone }\n',
    'configs/exp/frozen_b.yaml': 'extends: ../shared.yaml\ntrain: { freeze: backbone, lr: 0.003 }\n',
    'configs/exp/finetune.yaml': 'extends: ../shared.yaml\ntrain: { freeze: { until: layer3 }, lr_backbone: 0.001, bn: frozen, epochs: 1 }\n',
    'pipeline.yaml': TRAIN_STUDY_PIPELINE,
  });
  made.push(dir);
  const fixtures = path.join(dir, 'weights');
  mkdirSync(fixtures);
  const result = spawnSync(python!, [script, fixtures, '32', 'resnet18', 'resnet34'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return dir;
}

describe('train on a pretrained torchvision backbone', { skip: python ? false : 'no python3 with torch and torchvision' }, () => {
  it('trains frozen heads (features embedded once) and a fine-tuned net; the weights file is in the key', () => {
    const dir = study();
    const r = cli(dir, ['run', '-j', '1'], { PIPELINE_TF_BACKEND: 'wasm' });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    for (const exp of ['frozen_a', 'frozen_b', 'finetune']) {
      const metrics = JSON.parse(readFileSync(path.join(dir, `outputs/runs/${exp}/fold0/metrics.json`), 'utf8')) as { val: { auc: number }; parameters: number };
      assert.ok(metrics.val.auc >= 0 && metrics.val.auc <= 1, `${exp}: an AUC`);
      assert.equal(metrics.parameters, 11176512 + 513, `${exp}: resnet18's parameters without its fc, plus a 512 -> 1 head`);
    }
    const cache = path.join(dir, '.pipeline/stage-cache/train/features');
    const digests = readdirSync(cache);
    assert.equal(digests.length, 1, 'one backbone, one feature cache');
    const index = JSON.parse(readFileSync(path.join(cache, digests[0], 'index.json'), 'utf8')) as { shards: string[] };
    assert.equal(index.shards.length, 2, "one shard for the fold's training images, one for its validation images; the second head reused the first one's");

    assert.equal(JSON.parse(cli(dir, ['run', '--json']).stdout.trim().split('\n').pop()!).ran, 0);
    writeFileSync(path.join(dir, 'weights/resnet18.pth'), readFileSync(path.join(dir, 'weights/resnet34.pth')));
    const status = cli(dir, ['status']);
    assert.match(status.stdout, /train@exp=frozen_a,fold=0/, 'other weights, other key');
    const wrong = cli(dir, ['run', 'train@exp=frozen_a,fold=0'], { PIPELINE_TF_BACKEND: 'wasm' });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr + wrong.stdout, /model\.weights weights\/resnet18\.pth does not fit the model: missing from the file|in the file but not in the model: layer1\.2\.conv1\.weight/);
  });

  it('bad input is refused at load, naming the config and the key', () => {
    const dir = study();
    writeFileSync(path.join(dir, 'configs/exp/small.yaml'), 'extends: ../shared.yaml\ndata: { size: 16 }\n');
    writeFileSync(path.join(dir, 'configs/exp/no_weights.yaml'), 'seed: 1\nmodel: { arch: resnet18 }\ndata: { size: 32 }\ntrain: { freeze: backbone }\n');
    writeFileSync(path.join(dir, 'configs/exp/scratch_weights.yaml'), 'extends: ../shared.yaml\nmodel: { arch: simple_cnn }\n');
    writeFileSync(path.join(dir, 'configs/exp/typo.yaml'), 'extends: ../shared.yaml\nmodel: { arch: resnet19 }\n');
    const r = cli(dir, ['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /configs\/exp\/small\.yaml:2:15: data\.size must be >= 32 \(got 16; train reads it\): a torchvision architecture downsamples 32x/);
    assert.match(r.stderr, /configs\/exp\/typo\.yaml:2:16: model\.arch must be one of: simple_cnn, resnet, mobilenet, simple_cnn_dense, resnet18, resnet34, resnet50, mobilenet_v3_small, mobilenet_v3_large, efficientnet_b0, convnext_tiny, mobilenet_v2, dlib_face_resnet \(got "resnet19"\); did you mean resnet18\?/);
    assert.match(r.stderr, /no_weights\.yaml:2:1: model\.weights is needed: train\.freeze other than none keeps pretrained layers as they are/);
    assert.match(r.stderr, /scratch_weights\.yaml:2:16: model\.arch must be one of: resnet18, .*: model\.weights loads a torchvision state_dict/);
    assert.equal(existsSync(path.join(dir, 'outputs')), false, 'nothing ran');
  });

  it('a weights file that is not there is named where the config set it', () => {
    const dir = study();
    writeFileSync(path.join(dir, 'configs/exp/missing.yaml'), 'extends: ../shared.yaml\nmodel: { weights: weights/none.pth }\n');
    const r = cli(dir, ['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /configs\/exp\/missing\.yaml:2:19: dep "weights\/none\.pth" of train@exp=missing,fold=0 does not exist/);
  });
});
