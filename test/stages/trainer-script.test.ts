import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cli, jsonEvents, makeProject, read, writeFiles } from '../helpers.js';

const trainer = readFileSync(fileURLToPath(new URL('../../../test/fixtures/trainer/by_file_size.py', import.meta.url)), 'utf8');

/** synth-faces, a split, and `train` run by a stdlib-only script over configs/exp/*.yaml, then aggregate. */
function scriptStudy(configs: Record<string, string>): string {
  return makeProject({
    'train.py': trainer,
    'configs/dataset.yaml': 'seed: 3\ndata: { identities: 8, real_per_identity: 2, fake_per_identity: 2, size: 16, geometry_shortcut: true }\ncv: { folds: 2, stratify: label }\n',
    ...Object.fromEntries(Object.entries(configs).map(([name, text]) => [`configs/exp/${name}.yaml`, text])),
    'pipeline.yaml': [
      'params: [configs/dataset.yaml]',
      'stages:',
      '  data: { uses: synth-faces, params: [seed, data], outs: { dataset: data/raw } }',
      '  split: { uses: split, deps: { dataset: data/raw }, params: [seed, cv], outs: { splits: outputs/splits.json } }',
      '  train:',
      '    matrix: { exp: "configs/exp/*.yaml", fold: [0, 1] }',
      '    uses: train',
      '    with: { fold: "${fold}", runner: python, script: train.py }',
      '    deps: { splits: outputs/splits.json, dataset: data/raw }',
      '    params: ${exp}',
      '    outs: { run: "outputs/runs/${exp.name}/fold${fold}" }',
      '  aggregate:',
      '    matrix: { exp: "configs/exp/*.yaml" }',
      '    uses: aggregate',
      '    with: { experiment: "${exp.name}" }',
      '    deps: { runs: "outputs/runs/${exp.name}" }',
      '    outs: { results: "outputs/results/${exp.name}.json" }',
      '',
    ].join('\n'),
  });
}

const metricsOf = (dir: string, exp: string, fold: number) => JSON.parse(read(dir, `outputs/runs/${exp}/fold${fold}/metrics.json`)) as Record<string, unknown>;

describe('python/pipeline_train.py, the stdlib-only helper', () => {
  it('computes every metric as scikit-learn does (the fixtures the built-in\'s metrics are pinned to)', () => {
    const r = spawnSync('python3', [fileURLToPath(new URL('../../../test/fixtures/trainer/helper_vs_sklearn.py', import.meta.url))], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^(\d+) of \1 checks equal scikit-learn/m);
  });
});

describe('train with the researcher\'s own script (runner: python)', () => {
  it('hands the script its fold, relays its progress, checks its run folder, and feeds aggregate; binary, multi-class and regression', () => {
    const dir = scriptStudy({ bin: 'seed: 1\nmode: good\n', src: 'seed: 1\ndata: { target: source }\n', light: 'seed: 1\ndata: { target: light }\n' });
    const r = cli(dir, ['run', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const events = jsonEvents(r.stdout);
    assert.ok(events.some((e) => e.event === 'progress' && e.stage === 'train@exp=bin,fold=0' && (e.data as { epoch?: string }).epoch === '2/2'), 'the script\'s ::progress lines reach --json');
    const bin = metricsOf(dir, 'bin', 0);
    assert.equal(bin.backend, 'python-test');
    assert.equal((bin.val as { n: number }).n, bin.n_val);
    assert.equal(metricsOf(dir, 'src', 1).task, 'multiclass');
    assert.equal(metricsOf(dir, 'light', 1).task, 'regression');
    for (const exp of ['bin', 'src', 'light']) assert.ok(existsSync(path.join(dir, `outputs/results/${exp}.json`)), `aggregate read ${exp}`);
    const spec = JSON.parse(read(dir, '.pipeline/stage-cache/train/runner/train@exp=bin,fold=0/spec.json')) as { fold: number; task: string; classes: string[]; params: { mode: string } };
    assert.deepEqual([spec.fold, spec.task, spec.params.mode], [0, 'binary', 'good']);

    const again = cli(dir, ['run', '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(!jsonEvents(again.stdout).some((e) => e.event === 'started'), 'a second run starts nothing');
    writeFiles(dir, { 'train.py': trainer + '\n# edited\n' });
    const edited = jsonEvents(cli(dir, ['run', '--json', 'train']).stdout).filter((e) => e.event === 'started').map((e) => e.stage);
    assert.equal(edited.length, 6, `editing the script retrains every fold: ${edited.join(', ')}`);
  });

  it('fails with the script\'s last lines and the command to rerun it alone; records nothing', () => {
    const dir = scriptStudy({ bad: 'seed: 1\nmode: traceback\n' });
    const r = cli(dir, ['run', 'train@exp=bad,fold=0']);
    assert.notEqual(r.code, 0);
    const all = r.stderr + r.stdout;
    assert.match(all, /RuntimeError: the GPU caught fire/);
    assert.match(all, /exited with code 1/);
    assert.match(all, /rerun it alone: cd .* && python3 -u train\.py .*spec\.json/);
    assert.ok(!read(dir, 'pipeline.lock').includes('train@exp=bad'), 'nothing recorded for the failed fold');
  });

  for (const [mode, message] of [
    ['missing', /oof\.csv is missing/],
    ['lie', /metrics\.json disagrees with oof\.csv: val\.auc is 0\.99, the predictions give/],
    ['val_threshold', /val\.threshold is .*training predictions gives .*the one the validation images give/],
  ] as const) {
    it(`refuses a run folder whose ${mode === 'missing' ? 'oof.csv is missing' : mode === 'lie' ? 'metrics disagree with oof.csv' : 'threshold was chosen on the validation images'}`, () => {
      const dir = scriptStudy({ bad: `seed: 1\nmode: ${mode}\n` });
      const r = cli(dir, ['run', 'train@exp=bad,fold=0']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr + r.stdout, message);
      assert.ok(!read(dir, 'pipeline.lock').includes('train@exp=bad'));
    });
  }

  it('runner: executable runs the script by its #! line', () => {
    const dir = scriptStudy({ a: 'seed: 1\n' });
    chmodSync(path.join(dir, 'train.py'), 0o755);
    writeFiles(dir, { 'pipeline.yaml': read(dir, 'pipeline.yaml').replace('runner: python', 'runner: executable') });
    const r = cli(dir, ['run', 'train@exp=a,fold=1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(metricsOf(dir, 'a', 1).backend, 'python-test');
  });

  it('checks with: at load time: a runner needs a script, and the script is a file of the project', () => {
    const dir = scriptStudy({ a: 'seed: 1\n' });
    writeFiles(dir, { 'pipeline.yaml': read(dir, 'pipeline.yaml').replace('runner: python, script: train.py', 'runner: python') });
    const r = cli(dir, ['status']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pipeline\.yaml:\d+:\d+.*needs the option `script`/);
    writeFiles(dir, { 'pipeline.yaml': read(dir, 'pipeline.yaml').replace('runner: python', 'runner: pyhton, script: train.py') });
    assert.match(cli(dir, ['status']).stderr, /runner/);
  });
});
