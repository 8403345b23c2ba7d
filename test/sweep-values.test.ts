import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli, executions, jsonEvents, makeProject, read, writeFiles } from './helpers.js';

const sweepCommand = (w: string, lr: string) => `echo w${w} >> runs.log && echo ${w} > out/w${w}.txt && echo "{\\"score\\": ${w}}" > out/m${w}.json`.replace(/\$\{lr\}/, lr);

/** The same sweep point made from a config file (matrix over files) and from values (`set:`). */
const fromFiles = [
  'stages:',
  '  sweep:',
  '    matrix: { exp: configs/w/*.yaml }',
  `    cmd: '${sweepCommand('${exp.model.width}', '')}'`,
  '    params: ${exp}',
  '    outs: ["out/w${exp.model.width}.txt"]',
  '    metrics: ["out/m${exp.model.width}.json"]',
  '',
].join('\n');
const fromValues = (widths: string, extra = '') =>
  [
    'stages:',
    '  sweep:',
    `    matrix: { width: [${widths}] }`,
    `    cmd: '${sweepCommand('${model.width}', '')}'`,
    '    params: configs/base.yaml',
    `    set: { model.width: "\${width}"${extra} }`,
    '    outs: ["out/w${model.width}.txt"]',
    '    metrics: ["out/m${model.width}.json"]',
    '',
  ].join('\n');

describe('sweeps from values (set:), without a config file per point', () => {
  it('an instance made from values has the key of one made from a config file with the same params: switching forms restores, never reruns', () => {
    const dir = makeProject({
      'configs/base.yaml': 'model: { width: 4, depth: 1 }\ntrain: { lr: 0.1 }\n',
      'configs/w/w8.yaml': 'extends: ../base.yaml\nmodel: { width: 8 }\n',
      'pipeline.yaml': fromFiles,
    });
    assert.equal(cli(dir, ['run']).code, 0);
    assert.deepEqual(executions(dir), ['w8']);
    writeFiles(dir, { 'pipeline.yaml': fromValues('8') });
    const r = cli(dir, ['run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(executions(dir), ['w8'], 'the same resolved params: the same key, nothing reran');
    assert.ok(jsonEvents(r.stdout).some((e) => e.stage === 'sweep@width=8' && (e.event === 'restored' || e.reason === 'up-to-date' || e.action === 'restore')), r.stdout);

    writeFiles(dir, { 'pipeline.yaml': fromValues('8, 16') });
    assert.match(cli(dir, ['status']).stdout, /sweep@width=16: never run/);
    assert.equal(cli(dir, ['run']).code, 0);
    assert.deepEqual(executions(dir), ['w8', 'w16'], 'widening the sweep runs only the new point');
    assert.equal(read(dir, 'out/w16.txt'), '16\n');
    const shown = JSON.parse(cli(dir, ['exp', 'show', '--json']).stdout) as { id: string; params: Record<string, unknown> }[];
    assert.deepEqual(shown.find((s) => s.id === 'sweep@width=16')?.params['model.width'], 16, 'exp show has the value, typed');

    writeFiles(dir, { 'pipeline.yaml': fromValues('8, 16', ', train.lr: 0.2') });
    assert.match(cli(dir, ['status']).stdout, /sweep@width=8: .*train\.lr/);
    assert.equal(cli(dir, ['run', '-S', 'train.lr=0.1']).code, 0);
    assert.deepEqual(executions(dir), ['w8', 'w16'], '-S wins over set:, so the params are the old ones again');
  });

  it('set: on named params must stay inside them; a built-in\'s unknown key is an error', () => {
    const dir = makeProject({
      'params.yaml': 'train: { lr: 0.1 }\nother: 1\n',
      'pipeline.yaml': 'params: [params.yaml]\nstages:\n  s:\n    matrix: { lr: [0.2] }\n    cmd: echo ${train.lr} > o.txt\n    params: [train]\n    set: { model.width: 3 }\n    outs: [o.txt]\n',
    });
    const r = cli(dir, ['status']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pipeline\.yaml:\d+:\d+: set: model\.width is not among this stage's params \(train\)/);
    writeFiles(dir, { 'pipeline.yaml': read(dir, 'pipeline.yaml').replace('set: { model.width: 3 }', 'set: { train.lr: "${lr}" }') });
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal(read(dir, 'o.txt'), '0.2\n', 'the command sees the set value');

    writeFiles(dir, {
      'configs/base.yaml': 'seed: 1\nmodel: { arch: simple_cnn, width: 4 }\ndata: { size: 16 }\ntrain: { epochs: 1 }\n',
      'pipeline.yaml': 'stages:\n  t:\n    matrix: { w: [4, 8] }\n    uses: train\n    with: { fold: 0 }\n    params: configs/base.yaml\n    set: { model.widht: "${w}" }\n    deps: { splits: s.json, dataset: d }\n    outs: { run: "runs/w${w}" }\n',
    });
    assert.match(cli(dir, ['status']).stderr, /model\.widht: unknown key; did you mean model\.width\?/);
  });
});
