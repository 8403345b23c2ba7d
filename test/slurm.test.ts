import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cli, cliAsync, executions, jsonEvents, makeProject, read, startWatch, writeFiles } from './helpers.js';
import { tempDir } from './support/temp-dirs.js';
import { lfwFolder } from './support/real-photos.js';
import { torchPython } from './support/torch-python.js';

const script = fileURLToPath(new URL('../../test/support/slurm-local.sh', import.meta.url));
const repo = fileURLToPath(new URL('../../', import.meta.url));
const canStart = spawnSync('sh', ['-c', 'command -v sbatch || [ "$(id -u)" = 0 ]']).status === 0;
const required = process.env.PIPELINE_REQUIRE_SERVICES === '1';
/** Slurm remembers finished jobs for an hour: stage names carry this run's pid so counts are ours. */
const u = `p${process.pid}`;

/** Jobs Slurm knows (running or finished) whose name is pipeline:<id>. */
function jobsNamed(id: string): { id: string; state: string }[] {
  const r = spawnSync('squeue', ['-h', '-t', 'all', '-n', `pipeline:${id}`, '-o', '%i|%T'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map((l) => {
    const [jobId, state] = l.split('|');
    return { id: jobId, state };
  });
}

const fanProject = (tag: string) =>
  makeProject({
    'in.txt': 'hello\n',
    'pipeline.yaml': [
      'stages:',
      `  prep_${tag}:`,
      '    cmd: echo prep >> runs.log && tr a-z A-Z < in.txt > out/prep.txt',
      '    deps: [in.txt]',
      '    outs: [out/prep.txt]',
      `  fold_${tag}:`,
      '    matrix: { k: [0, 1, 2] }',
      '    cmd: echo fold${k} >> runs.log && echo "hello from fold ${k}" && (cat out/prep.txt; echo fold=${k}) > out/fold${k}.txt',
      '    deps: [out/prep.txt]',
      '    outs:',
      '      - out/fold${k}.txt',
      `  merge_${tag}:`,
      '    cmd: echo merge >> runs.log && cat out/fold*.txt > merged.txt',
      '    deps: [out]',
      '    outs: [merged.txt]',
    ].join('\n'),
  });

describe('Slurm executor (a real single-node cluster)', { skip: !canStart && !required ? 'Slurm not installed and not root (CI installs it)' : false }, () => {
  before(() => {
    const r = spawnSync('bash', [script, 'start'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    process.env.SLURM_CONF = '/tmp/slurm-local/etc/slurm.conf';
  });

  it('a fan-out/fan-in DAG gives the same outputs and lock as a local run; a rerun submits nothing', () => {
    const onSlurm = fanProject(`a${u}`);
    const local = path.join(tempDir('pipeline-local-'), 'p');
    cpSync(onSlurm, local, { recursive: true });
    const r = cli(onSlurm, ['run', '--executor', 'slurm', '--jobs', '4', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(jobsNamed(`fold_a${u}@k=1`).length, 1, 'the fold ran as a Slurm job');
    assert.equal(cli(local, ['run']).code, 0);
    assert.equal(read(onSlurm, 'pipeline.lock'), read(local, 'pipeline.lock'));
    assert.equal(read(onSlurm, 'merged.txt'), read(local, 'merged.txt'));
    assert.match(read(onSlurm, `cache/logs/fold_a${u}@k=2.log`), /hello from fold 2/, 'the job log lands in cache/logs');
    const again = cli(onSlurm, ['run', '--executor', 'slurm', '--json']);
    assert.equal(jsonEvents(again.stdout).filter((e) => e.event === 'started').length, 0);
    assert.equal(jobsNamed(`fold_a${u}@k=1`).length, 1, 'no new job');
  });

  it('GPU stages get distinct CUDA_VISIBLE_DEVICES from gres; a stage may stay local', () => {
    const dir = makeProject({
      'pipeline.yaml': [
        'stages:',
        `  train_b${u}:`,
        '    matrix: { k: [0, 1] }',
        '    cmd: echo "$CUDA_VISIBLE_DEVICES" > cuda${k}.txt && sleep 2',
        '    resources: { gpu: 1, time: 10m }',
        '    outs:',
        '      - cuda${k}.txt',
        `  report_b${u}:`,
        '    executor: local',
        '    cmd: echo "job=[$SLURM_JOB_ID]" > report.txt',
        '    deps: [cuda0.txt, cuda1.txt]',
        '    outs: [report.txt]',
      ].join('\n'),
    });
    const r = cli(dir, ['run', '--executor', 'slurm', '--jobs', '4']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([read(dir, 'cuda0.txt').trim(), read(dir, 'cuda1.txt').trim()].sort(), ['0', '1']);
    assert.equal(read(dir, 'report.txt'), 'job=[]\n', 'report_b ran on this machine');
    assert.equal(jobsNamed(`report_b${u}`).length, 0);
  });

  it('a failing job reports its state, exit code and log tail, and records nothing', () => {
    const dir = makeProject({ 'pipeline.yaml': `stages:\n  bad_c${u}:\n    cmd: echo "about to fail"; exit 3\n    outs: [x.txt]\n` });
    const r = cli(dir, ['run', '--executor', 'slurm']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`bad_c${u} failed: Slurm job \\d+ FAILED \\(exit code 3\\)`));
    assert.match(r.stderr, /about to fail/);
    assert.doesNotMatch(cli(dir, ['status']).stdout, /everything is up to date/);
  });

  it('watch on Slurm: an edit reruns its stage as a new job and never resubmits a running job whose key is unchanged', async () => {
    const dir = makeProject({
      'fast.txt': 'f1\n',
      'slow.txt': 's1\n',
      'pipeline.yaml': [
        'stages:',
        `  fast_w${u}:`,
        '    cmd: echo fast >> runs.log && cp fast.txt out/fast',
        '    deps: [fast.txt]',
        '    outs: [out/fast]',
        `  slow_w${u}:`,
        '    cmd: echo slow-start >> runs.log && sleep 6 && cp slow.txt out/slow',
        '    deps: [slow.txt]',
        '    outs: [out/slow]',
      ].join('\n'),
    });
    const w = startWatch(dir, ['--executor', 'slurm']);
    try {
      await w.until(() => executions(dir).includes('slow-start') && w.count('finished', `fast_w${u}`) === 1, 'slow to be running on Slurm', 60000);
      writeFiles(dir, { 'fast.txt': 'f2\n' });
      await w.until(() => w.count('finished', `fast_w${u}`) === 2, 'fast to rerun', 60000);
      await w.until(() => w.count('finished', `slow_w${u}`) === 1, 'slow to finish', 60000);
      assert.equal(read(dir, 'out/fast'), 'f2\n');
      assert.equal(jobsNamed(`fast_w${u}`).length, 2, 'the edited stage ran as a second job');
      assert.deepEqual(jobsNamed(`slow_w${u}`).map((j) => j.state), ['COMPLETED'], 'one job for slow, never cancelled or resubmitted');
      assert.equal(w.count('cancelled', `slow_w${u}`), 0);
    } finally {
      await w.stop();
    }
  });

  it('Ctrl-C cancels the jobs it submitted', async () => {
    const dir = makeProject({ 'pipeline.yaml': `stages:\n  long_d${u}:\n    cmd: echo started >> runs.log; sleep 120; echo x > x.txt\n    outs: [x.txt]\n` });
    const child = cliAsync(dir, ['run', '--executor', 'slurm']);
    const start = Date.now();
    while (!(executions(dir).includes('started') && jobsNamed(`long_d${u}`)[0]?.state === 'RUNNING') && Date.now() - start < 30000) {
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 130);
    const deadline = Date.now() + 15000;
    while (jobsNamed(`long_d${u}`)[0]?.state !== 'CANCELLED' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(jobsNamed(`long_d${u}`)[0]?.state, 'CANCELLED');
    assert.doesNotMatch(cli(dir, ['status']).stdout, /everything is up to date/);
  });

  it('a search in rungs (successive halving) runs round by round as Slurm jobs, choosing what a local run chooses', () => {
    const stage = `tune_h${u}`;
    const files = {
      'base.yaml': 'train: { lr: 0.01, epochs: 1 }\n',
      'score.js': "const fs = require('fs'); const lr = Number(process.env.LR); fs.mkdirSync(process.argv[2], { recursive: true }); fs.writeFileSync(process.argv[2] + '/metrics.json', JSON.stringify({ val: { auc: 0.9 - 0.05 * Math.abs(Math.log10(lr) + 3) + 0.01 * Number(process.env.EPOCHS) } }));\n",
      'pipeline.yaml': [
        'stages:',
        `  ${stage}:`,
        '    search:',
        '      base: base.yaml',
        '      method: halving',
        '      trials: 4',
        '      eta: 2',
        '      budget: { param: train.epochs, min: 1, max: 2 }',
        '      space: { train.lr: { loguniform: [1.0e-5, 1.0e-1] } }',
        '    cmd: node score.js out/${rung}/${trial.name}',
        '    env: { LR: "${train.lr}", EPOCHS: "${train.epochs}" }',
        '    deps: [score.js]',
        '    outs: ["out/${rung}/${trial.name}"]',
        '',
      ].join('\n'),
    };
    const onSlurm = makeProject(files);
    const local = makeProject(files);
    const r = cli(onSlurm, ['run', '--executor', 'slurm', '--jobs', '4', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(jsonEvents(r.stdout).find((e) => e.event === 'done')!.rounds, 2);
    assert.equal(jsonEvents(r.stdout).filter((e) => e.event === 'finished').length, 4 + 1 + 2 + 1, 'rung 0, its selection, rung 1, its selection');
    const rung1 = jsonEvents(r.stdout).find((e) => e.event === 'finished' && String(e.stage).startsWith(`${stage}@rung=1,`));
    // squeue -n splits names at commas, and a rung's id has them: read every name instead.
    const names = spawnSync('squeue', ['-h', '-t', 'all', '-o', '%300j'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.trim());
    assert.ok(names.includes(`pipeline:${String(rung1!.stage)}`), 'rung 1 ran as a Slurm job');
    assert.equal(cli(local, ['run']).code, 0);
    assert.equal(read(onSlurm, `outputs/search/${stage}/rung1.json`), read(local, `outputs/search/${stage}/rung1.json`));
    assert.equal(read(onSlurm, 'pipeline.lock'), read(local, 'pipeline.lock'));
  });

  it("the example study's training stages run on Slurm with the same results as locally", () => {
    // The repository's study, cut to one experiment, two folds and one epoch to stay quick.
    const make = () => {
      const dir = path.join(tempDir('pipeline-example-'), 'study');
      for (const part of ['pipeline.yaml', 'configs']) cpSync(path.join(repo, part), path.join(dir, part), { recursive: true });
      for (const phase of ['phase2', 'phase3']) rmSync(path.join(dir, 'configs', phase), { recursive: true });
      rmSync(path.join(dir, 'configs/phase1/p1_resnet.yaml'));
      writeFileSync(path.join(dir, 'configs/dataset.yaml'), 'seed: 42\ndata: { identities: 10, real_per_identity: 2, fake_per_identity: 2, size: 24, geometry_shortcut: true }\ncv: { folds: 5, stratify: label }\nfacecrop: { margin: 0.25, size: 48, min_score: 0.3, input_size: 160 }\n');
      return dir;
    };
    const onSlurm = make();
    const local = make();
    const args = ['run', 'train@exp=p1_cnn,fold=0', 'train@exp=p1_cnn,fold=1', '-S', 'train.epochs=1'];
    const r = cli(onSlurm, [...args, '--executor', 'slurm', '--jobs', '4']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(read(onSlurm, 'cache/logs/train@exp=p1_cnn,fold=1.log'), /val AUC [\d.]+ at epoch 1/);
    assert.equal(cli(local, args).code, 0);
    assert.equal(read(onSlurm, 'outputs/runs/p1_cnn/fold1/metrics.json'), read(local, 'outputs/runs/p1_cnn/fold1/metrics.json'));
    assert.equal(read(onSlurm, 'pipeline.lock'), read(local, 'pipeline.lock'));
  });

  it('a PyTorch trainer (init --trainer pytorch) runs as Slurm jobs: gres assigns the GPU, the job runs train.py, and its run folder is checked', { skip: !torchPython() && !required ? 'needs python3-torchvision' : false }, async () => {
    const photos = await lfwFolder(path.join(tempDir('pipeline-lfw-'), 'photos'));
    assert.ok(photos, 'the LFW photos (python3-skimage)');
    const dir = makeProject({});
    assert.equal(cli(dir, ['init', '--images', photos, '--positive', 'face', '--trainer', 'pytorch']).code, 0);
    const r = cli(dir, ['run', 'train_torch@exp=torch_resnet18,fold=0', '-S', 'train.epochs=1', '--executor', 'slurm', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
    const log = read(dir, 'cache/logs/train_torch@exp=torch_resnet18,fold=0.log');
    assert.match(log, /outputs\/runs\/torch_resnet18\/fold0 checked/);
    const metrics = JSON.parse(read(dir, 'outputs/runs/torch_resnet18/fold0/metrics.json')) as { backend: string; epochs_run: number };
    assert.deepEqual([metrics.backend, metrics.epochs_run], ['pytorch-cpu', 1], 'no CUDA on this cluster: the CPU, one epoch');
    assert.ok(jsonEvents(r.stdout).some((e) => e.event === 'progress' && e.stage === 'train_torch@exp=torch_resnet18,fold=0'), 'progress from inside the job');
  });
});
