import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cli, executions, jsonEvents, makeProject, read, writeFiles } from './helpers.js';

/**
 * A trial's score is a known function of its values, so the rungs' choices can be checked
 * against the ranking computed here: best near lr = 1e-3, a little better with more epochs.
 */
const score = [
  "const fs = require('fs');",
  'const out = process.argv[2];',
  'const lr = Number(process.env.LR), epochs = Number(process.env.EPOCHS), fold = Number(process.env.FOLD);',
  "fs.appendFileSync('runs.log', `${process.env.PIPELINE_STAGE} epochs=${epochs}\\n`);",
  'const auc = 0.9 - 0.05 * Math.abs(Math.log10(lr) + 3) + 0.01 * Math.log(epochs) + 0.001 * fold;',
  'fs.mkdirSync(out, { recursive: true });',
  "fs.writeFileSync(out + '/metrics.json', JSON.stringify({ val: { auc } }));",
  '',
].join('\n');
const expectedAuc = (lr: number, epochs: number, fold: number) => 0.9 - 0.05 * Math.abs(Math.log10(lr) + 3) + 0.01 * Math.log(epochs) + 0.001 * fold;

const spec = (search: string, outs = 'outputs/runs/tune/${rung}/${trial.name}/fold${fold}') =>
  [
    'stages:',
    '  tune:',
    '    matrix: { fold: [0, 1] }',
    '    search:',
    '      base: base.yaml',
    ...search.split('\n').map((l) => `      ${l}`),
    '      space:',
    '        train.lr: { loguniform: [1.0e-5, 1.0e-1] }',
    `    cmd: node score.js ${outs}`,
    '    env: { LR: "${train.lr}", EPOCHS: "${train.epochs}", FOLD: "${fold}" }',
    '    deps: [score.js]',
    `    outs: ["${outs}"]`,
    '  summary:',
    '    cmd: echo summary >> runs.log && find outputs/runs -name metrics.json | sort > summary.txt',
    '    deps: [outputs/runs]',
    '    outs: [summary.txt]',
    '',
  ].join('\n');
const halving = (trials: number) => `method: halving\ntrials: ${trials}\nseed: 3\neta: 3\nbudget: { param: train.epochs, min: 1, max: 9 }\nrefit: { fold: [0, 1, 2] }`;
const project = (search: string, outs?: string) => makeProject({ 'base.yaml': 'train: { lr: 0.01, epochs: 1 }\n', 'score.js': score, 'pipeline.yaml': spec(search, outs) });

interface Selection {
  rung: string;
  budget?: { param: string; value: number };
  trials: { trial: string; values: { 'train.lr': number }; folds: Record<string, number>; mean: number }[];
  promoted: string[];
}
const selection = (dir: string, name: string) => JSON.parse(read(dir, `outputs/search/tune/${name}.json`)) as Selection;
const ran = (dir: string, rung: string) => executions(dir).filter((l) => l.startsWith(`tune@rung=${rung},`));

describe('successive halving: rungs planned from the rung before, round after round', () => {
  it('rung 0 trains every trial at the smallest budget; each rung promotes the best 1/eta; the winner is refitted on more folds', () => {
    const dir = project(halving(9));
    const dry = cli(dir, ['run', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /deferred\s+tune@rung=1\s+its instances are listed in outputs\/search\/tune\/rung0\.json, which tune\.select@rung=0 writes/);
    assert.match(cli(dir, ['status']).stdout, /summary: .*waits for tune@rung=1/);

    const r = cli(dir, ['run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const events = jsonEvents(r.stdout);
    const done = events.find((e) => e.event === 'done')!;
    assert.equal(done.rounds, 4, 'rung 0, rung 1, rung 2, refit');
    assert.equal(events.filter((e) => e.event === 'replan').length, 3);
    // 9 x 2 + 3 x 2 + 1 x 2 + 1 x 3 trainings, 4 selections, the summary.
    assert.equal(done.ran, 18 + 6 + 2 + 3 + 4 + 1);
    assert.equal(ran(dir, '0').length, 18);
    assert.ok(ran(dir, '0').every((l) => l.endsWith('epochs=1')) && ran(dir, '1').every((l) => l.endsWith('epochs=3')) && ran(dir, '2').every((l) => l.endsWith('epochs=9')));
    assert.ok(ran(dir, 'best').every((l) => l.endsWith('epochs=9')) && ran(dir, 'best').length === 3);
    assert.deepEqual(executions(dir).filter((l) => l === 'summary'), ['summary'], 'what reads every rung ran once, after the last');

    // The rankings, recomputed from the score function.
    const rung0 = selection(dir, 'rung0');
    assert.equal(rung0.budget?.value, 1);
    const byMean = rung0.trials
      .map((t) => ({ trial: t.trial, mean: (expectedAuc(t.values['train.lr'], 1, 0) + expectedAuc(t.values['train.lr'], 1, 1)) / 2 }))
      .sort((a, b) => b.mean - a.mean);
    for (const t of rung0.trials) assert.ok(Math.abs(t.mean - byMean.find((b) => b.trial === t.trial)!.mean) < 1e-12);
    assert.deepEqual(rung0.promoted, byMean.slice(0, 3).map((t) => t.trial));
    assert.deepEqual(selection(dir, 'rung1').trials.map((t) => t.trial).sort(), [...rung0.promoted].sort());
    assert.equal(selection(dir, 'rung1').promoted.length, 1);
    const best = selection(dir, 'best');
    assert.deepEqual(Object.keys(best.trials[0].folds), ['fold0', 'fold1', 'fold2']);
    assert.equal(best.trials[0].trial, selection(dir, 'rung2').promoted[0]);

    const again = cli(dir, ['run']);
    assert.match(again.stderr, /0 ran, 0 restored, 34 up to date/);
    assert.match(cli(dir, ['status']).stdout, /everything is up to date \(34 stage instances\)/);
    assert.equal(cli(dir, ['run', '--frozen']).code, 0, 'a finished search satisfies --frozen');
  });

  it('raising trials trains only the new ones at rung 0; later rungs rerun only where the promotions changed', () => {
    const dir = project(halving(9));
    assert.equal(cli(dir, ['run']).code, 0);
    const before = executions(dir).length;
    const promotedBefore = selection(dir, 'rung0').promoted;
    writeFiles(dir, { 'pipeline.yaml': spec(halving(12)) });
    const r = cli(dir, ['run']);
    assert.equal(r.code, 0, r.stderr);
    const added = executions(dir).slice(before);
    assert.equal(added.filter((l) => l.startsWith('tune@rung=0,')).length, 3 * 2, 'three new trials x 2 folds');
    const promotedAfter = selection(dir, 'rung0').promoted;
    assert.equal(promotedAfter.length, 4, '12 trials keep 4');
    const newInRung1 = promotedAfter.filter((t) => !promotedBefore.includes(t));
    assert.equal(added.filter((l) => l.startsWith('tune@rung=1,')).length, newInRung1.length * 2, 'rung 1 trains only the trials it did not have');
  });

  it('a `from:` matrix axis lists instances from a file an upstream stage writes, planned after it ran', () => {
    const dir = makeProject({
      'params.yaml': 'models: [a, b]\n',
      'pipeline.yaml': [
        'params: [params.yaml]',
        'stages:',
        '  choose:',
        '    cmd: node -e "require(\'fs\').writeFileSync(\'chosen.json\', process.argv[1])" ${models}',
        '    params: [models]',
        '    outs: [chosen.json]',
        '  fit:',
        '    matrix: { model: { from: chosen.json }, seed: [1, 2] }',
        '    cmd: mkdir -p fits && echo ${model} ${seed} >> runs.log && echo ${model} > fits/${model}-${seed}.txt',
        '    outs: ["fits/${model}-${seed}.txt"]',
        '  table:',
        '    cmd: cat fits/*.txt | sort > table.txt && echo table >> runs.log',
        '    deps: [fits]',
        '    outs: [table.txt]',
        '',
      ].join('\n'),
    });
    assert.match(cli(dir, ['status']).stdout, /fit@pending: its instances are listed in chosen\.json, which choose writes/);
    const r = cli(dir, ['run']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(executions(dir).sort(), ['a 1', 'a 2', 'b 1', 'b 2', 'table']);
    assert.equal(read(dir, 'table.txt'), 'a\na\nb\nb\n');
    // The upstream's new list: the same run writes it, re-plans, and fits only the new model.
    writeFiles(dir, { 'params.yaml': 'models: [a, b, c]\n' });
    const again = cli(dir, ['run']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /2 rounds/);
    assert.deepEqual(executions(dir).slice(5).sort(), ['c 1', 'c 2', 'table']);
    assert.equal(read(dir, 'table.txt'), 'a\na\nb\nb\nc\nc\n');
  });

  it('--frozen restores a finished search into a fresh checkout rung by rung, and refuses one that would train', () => {
    const dir = project(halving(9));
    const refused = cli(dir, ['run', '--frozen']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /tune@rung=0,trial=\w+,fold=0: never run/);
    assert.equal(cli(dir, ['run']).code, 0);
    const best = read(dir, 'outputs/search/tune/best.json');
    rmSync(path.join(dir, 'outputs'), { recursive: true });
    const restored = cli(dir, ['run', '--frozen']);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stderr, /0 ran, 33 restored, 1 up to date, 4 rounds/);
    assert.equal(read(dir, 'outputs/search/tune/best.json'), best);
  });

  for (const [search, outs, message] of [
    ['method: halving\ntrials: 9\nbudget: { param: train.epochs, min: 1, max: 10 }', undefined, /search\.budget: max 10 is not min 1 times a power of eta 3, so the rungs do not reach it \(e\.g\. max: 9 or 27\)/],
    ['method: halving\ntrials: 9\neta: 1\nbudget: { param: train.epochs, min: 1, max: 9 }', undefined, /stages\.tune\.search\.eta must be >= 2/],
    ['method: halving\ntrials: 9', undefined, /search\.budget: halving needs \{ param: train\.epochs, min: <first rung>, max: <last rung> \}/],
    ['method: halving\ntrials: 9\nbudget: { param: train.epochs, min: 1, max: 9 }', 'outputs/runs/tune/${trial.name}/fold${fold}', /outs of a search in rungs \(halving, refit\) put each rung's trials in a folder of their own: "...\/\$\{rung\}\/\$\{trial\.name\}\/..."/],
    ['method: halving\ntrials: 2\nbudget: { param: train.epochs, min: 1, max: 9 }', undefined, /search: 2 trials run out after 2 rungs of eta 3; raise trials to at least 9/],
    ['method: random\ntrials: 2\neta: 3', undefined, /search\.eta belongs to method: halving/],
  ] as const) {
    it(`refuses with file:line: ${message.source.slice(0, 60)}`, () => {
      const r = cli(project(search, outs), ['status']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /pipeline\.yaml:\d+:\d+/);
    });
  }
});
