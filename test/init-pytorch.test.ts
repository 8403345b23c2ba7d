import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cli, jsonEvents, linkNodeModules, makeProject, read, tempDir, writeFiles } from './helpers.js';
import { lfwFolder } from './support/real-photos.js';
import { pythonImporting, torchPython } from './support/torch-python.js';

const required = process.env.PIPELINE_REQUIRE_SERVICES === '1';
const torch = torchPython();
const sklearn = pythonImporting(['sklearn'], 'python3-sklearn');
const photos = torch ? await lfwFolder(path.join(tempDir('pipeline-lfw-'), 'photos')) : undefined;
const makeWeights = fileURLToPath(new URL('../../test/fixtures/trainer/make_weights.py', import.meta.url));
const sklearnOnOof = fileURLToPath(new URL('../../test/fixtures/trainer/sklearn_on_oof.py', import.meta.url));
const skip = !torch || !photos || !sklearn ? 'needs python3-torchvision, python3-sklearn and python3-skimage (CI installs them)' : false;

describe('init --trainer pytorch on real photos (Labeled Faces in the Wild), trained by Debian\'s PyTorch', { skip: skip && !required ? skip : false }, () => {
  it('init -> run -> report beside the built-in CNN and the probe; metrics equal scikit-learn on oof.csv; a rerun does nothing; one config edit retrains only its folds', () => {
    const dir = makeProject({});
    const init = cli(dir, ['init', '--images', photos!, '--positive', 'face', '--trainer', 'pytorch']);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /train\.py/);
    linkNodeModules(dir);
    const args = ['run', 'report', '-S', 'train.epochs=2', '--json'];
    const run = cli(dir, args);
    assert.equal(run.code, 0, run.stderr + run.stdout.slice(-3000));
    const events = jsonEvents(run.stdout);
    assert.ok(events.some((e) => e.event === 'progress' && String(e.stage).startsWith('train_torch@') && typeof (e.data as { epoch?: unknown }).epoch === 'string'), 'train.py\'s progress reaches --json');

    const metrics = JSON.parse(read(dir, 'outputs/runs/torch_resnet18/fold1/metrics.json')) as { backend: string; backend_detail: string; val: Record<string, number> };
    assert.equal(metrics.backend, 'pytorch-cpu');
    assert.match(metrics.backend_detail, /^torch 1\.\d+.*resnet18/);
    const reference = spawnSync(sklearn!, [sklearnOnOof, path.join(dir, 'outputs/runs/torch_resnet18/fold1/oof.csv'), String(metrics.val.threshold)], { encoding: 'utf8' });
    assert.equal(reference.status, 0, reference.stderr);
    const expected = JSON.parse(reference.stdout) as Record<string, number | boolean>;
    assert.equal(expected.pred_column, true, 'oof.csv\'s pred column is the call at the threshold');
    for (const key of ['auc', 'pr_auc', 'accuracy', 'balanced_accuracy', 'f1', 'precision', 'recall', 'log_loss']) {
      assert.ok(Math.abs(metrics.val[key] - (expected[key] as number)) < 1e-9, `${key}: ${metrics.val[key]} vs scikit-learn ${String(expected[key])}`);
    }

    const report = read(dir, 'outputs/report/report.md');
    const row = /\| torch_resnet18 \| trainer \| PyTorch ResNet-18 \(train\.py\) \| (\d\.\d+) \[[^\]]+\] \| [+-]\d\.\d+ vs cnn \| (\d\.\d+) \|/.exec(report);
    assert.ok(row, `the report compares the PyTorch experiment with the built-in CNN (corrected t-test):\n${report.slice(0, 2500)}`);
    assert.ok(Number(row[1]) > 0.8, `PyTorch's ResNet-18 tells faces from non-faces: AUC ${row[1]}`);
    const shown = JSON.parse(cli(dir, ['exp', 'show', '--json']).stdout) as { id: string }[];
    assert.ok(shown.some((r) => r.id === 'train@exp=cnn,fold=0') && shown.some((r) => r.id === 'train_torch@exp=torch_resnet18,fold=0'), 'exp show lists both trainers');

    const again = jsonEvents(cli(dir, args).stdout).at(-1);
    assert.deepEqual(again, { ...again, event: 'done', ok: true, ran: 0, restored: 0 });
    writeFiles(dir, { 'configs/phase1-pytorch/torch_resnet18_augment.yaml': read(dir, 'configs/phase1-pytorch/torch_resnet18_augment.yaml') + 'data: { size: 48 }\n' });
    const edited = jsonEvents(cli(dir, args).stdout).filter((e) => e.event === 'started' && String(e.stage).startsWith('train')).map((e) => String(e.stage)).sort();
    assert.deepEqual(edited, [0, 1, 2, 3, 4].map((k) => `train_torch@exp=torch_resnet18_augment,fold=${k}`));
  });

  it('pretrained from the weights files researchers have: torchvision\'s .pth and timm\'s .safetensors load the same weights; a hostile pickle is refused, never run', () => {
    const dir = makeProject({});
    assert.equal(cli(dir, ['init', '--images', photos!, '--positive', 'face', '--trainer', 'pytorch']).code, 0);
    const made = spawnSync(torch!, [makeWeights, path.join(dir, 'weights')], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const config = (file: string) => `extends: ../torch.yaml\nmodel: { arch: resnet18, weights: weights/${file} }\ndata: { size: 32 }\ntrain: { freeze: backbone, epochs: 1 }\n`;
    writeFiles(dir, {
      'configs/phase1-pytorch/torch_pth.yaml': config('resnet18-f37072fd.pth'),
      'configs/phase1-pytorch/torch_safetensors.yaml': config('model.safetensors'),
      'configs/phase1-pytorch/torch_hostile.yaml': config('hostile.pth'),
      'configs/phase1-pytorch/torch_unloaded.yaml': config('x').replace(', weights: weights/x', ''),
    });
    const r = cli(dir, ['run', 'train_torch@exp=torch_pth,fold=0', 'train_torch@exp=torch_safetensors,fold=0', 'train_torch@exp=torch_unloaded,fold=0']);
    assert.equal(r.code, 0, r.stderr);
    const pth = JSON.parse(read(dir, 'outputs/runs/torch_pth/fold0/metrics.json')) as { parameters: number; backend_detail: string };
    assert.equal(pth.parameters, 513, 'freeze: backbone trains only the head (512 + 1)');
    assert.match(pth.backend_detail, /resnet18 pretrained/);
    assert.equal(read(dir, 'outputs/runs/torch_safetensors/fold0/oof.csv'), read(dir, 'outputs/runs/torch_pth/fold0/oof.csv'), 'the same weights, the same predictions');
    assert.notEqual(read(dir, 'outputs/runs/torch_unloaded/fold0/oof.csv'), read(dir, 'outputs/runs/torch_pth/fold0/oof.csv'), 'and not the seeded random ones');
    const hostile = cli(dir, ['run', 'train_torch@exp=torch_hostile,fold=0']);
    assert.notEqual(hostile.code, 0);
    assert.match(hostile.stderr + hostile.stdout, /Weights only load failed|UnpicklingError/);
    assert.equal(existsSync(path.join(dir, 'weights/PWNED')), false, 'the pickle was parsed, not run');
    assert.ok(!read(dir, 'pipeline.lock').includes('torch_hostile'));
  });
});
