import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { executions, makeProject, read, startWatch, writeFiles } from './helpers.js';

const project = () =>
  makeProject({
    'fast.txt': 'f1\n',
    'slow.txt': 's1\n',
    'report.tpl': 'report v1\n',
    'pipeline.yaml': [
      'stages:',
      '  fast:',
      '    cmd: echo fast >> runs.log && cp fast.txt out/fast',
      '    deps: [fast.txt]',
      '    outs: [out/fast]',
      '  slow:',
      '    cmd: echo slow-start >> runs.log && sleep 4 && cp slow.txt out/slow && echo slow-end >> runs.log',
      '    deps: [slow.txt]',
      '    outs: [out/slow]',
      '  report:',
      '    cmd: echo report >> runs.log && cat report.tpl out/fast > out/report',
      '    deps: [report.tpl, out/fast]',
      '    outs: [out/report]',
    ].join('\n'),
  });

describe('pipeline watch', () => {
  it('a save reruns exactly the stages it made stale', async () => {
    const dir = project();
    const w = startWatch(dir);
    try {
      await w.until((e) => e.some((x) => x.event === 'idle'), 'the first pass');
      assert.deepEqual(executions(dir).sort(), ['fast', 'report', 'slow-end', 'slow-start']);
      writeFiles(dir, { 'report.tpl': 'report v2\n' });
      await w.until(() => w.count('idle') === 2, 'the second pass');
      assert.deepEqual(executions(dir).slice(4), ['report']);
      assert.equal(read(dir, 'out/report'), 'report v2\nf1\n');
      const change = w.events.find((e) => e.event === 'change')!;
      assert.deepEqual(change.paths, ['report.tpl']);
    } finally {
      await w.stop();
    }
  });

  it('a running stage whose key did not change survives edits elsewhere', async () => {
    const dir = project();
    const w = startWatch(dir);
    try {
      await w.until(() => executions(dir).includes('slow-start') && w.count('finished', 'fast') === 1, 'slow to be running');
      writeFiles(dir, { 'fast.txt': 'f2\n' });
      await w.until(() => w.count('finished', 'fast') === 2, 'fast to rerun');
      await w.until(() => w.count('finished', 'slow') === 1, 'slow to finish');
      await w.until(() => w.count('idle') >= 1, 'quiet');
      assert.equal(executions(dir).filter((e) => e === 'slow-start').length, 1, 'never restarted');
      assert.equal(w.count('cancelled', 'slow'), 0);
    } finally {
      await w.stop();
    }
  });

  it('a running stage whose key changed is cancelled and started again', async () => {
    const dir = project();
    const w = startWatch(dir);
    try {
      // Its process must really be running (not just scheduled) before the edit.
      await w.until(() => executions(dir).includes('slow-start'), 'slow to start');
      writeFiles(dir, { 'slow.txt': 's2\n' });
      await w.until(() => w.count('finished', 'slow') === 1, 'slow to finish once');
      await w.until(() => w.count('idle') >= 1, 'quiet');
      assert.equal(w.count('cancelled', 'slow'), 1);
      assert.equal(w.count('started', 'slow'), 2);
      assert.deepEqual(executions(dir).filter((e) => e.startsWith('slow')), ['slow-start', 'slow-start', 'slow-end']);
      assert.equal(read(dir, 'out/slow'), 's2\n');
      assert.match(read(dir, 'pipeline.lock'), /slow\.txt: [0-9a-f]{64}/);
    } finally {
      await w.stop();
    }
  });

  it('a broken pipeline.yaml is reported with file:line and the next good save resumes', async () => {
    const dir = project();
    const w = startWatch(dir);
    try {
      await w.until((e) => e.some((x) => x.event === 'idle'), 'the first pass');
      const good = read(dir, 'pipeline.yaml');
      writeFiles(dir, { 'pipeline.yaml': good.replace('    deps: [fast.txt]', '    dep: [fast.txt]') });
      await w.until(() => w.count('error') === 1, 'the error');
      assert.match(w.events.find((e) => e.event === 'error')!.message!, /pipeline\.yaml:4:5: unknown key "dep"/);
      writeFiles(dir, { 'pipeline.yaml': good.replace('cp fast.txt out/fast', 'cp fast.txt out/fast && echo fixed >> out/fast') });
      await w.until(() => w.count('finished', 'fast') === 2, 'fast to rerun after the fix');
      assert.equal(read(dir, 'out/fast'), 'f1\nfixed\n');
    } finally {
      await w.stop();
    }
  });
});

describe('pipeline watch over instances listed from what a stage writes', () => {
  it('a pass that leaves a `from:` axis deferred starts the next pass; a new entry fits only itself', async () => {
    const dir = makeProject({
      'models.txt': 'a\nb\n',
      'pipeline.yaml': [
        'stages:',
        '  choose:',
        '    cmd: node -e "const l = require(\'fs\').readFileSync(\'models.txt\', \'utf8\').split(\'\\\\n\').filter(Boolean); require(\'fs\').writeFileSync(\'chosen.json\', JSON.stringify(l))"',
        '    deps: [models.txt]',
        '    outs: [chosen.json]',
        '  fit:',
        '    matrix: { model: { from: chosen.json } }',
        '    cmd: mkdir -p fits && echo ${model} >> runs.log && echo ${model} > fits/${model}.txt',
        '    outs: ["fits/${model}.txt"]',
        '  table:',
        '    cmd: cat fits/*.txt > table.txt',
        '    deps: [fits]',
        '    outs: [table.txt]',
      ].join('\n'),
    });
    const w = startWatch(dir);
    try {
      await w.until((e) => e.some((x) => x.event === 'finished' && x.stage === 'table'), 'the table after the listed fits');
      assert.equal(read(dir, 'table.txt'), 'a\nb\n');
      assert.deepEqual(executions(dir).sort(), ['a', 'b']);
      writeFiles(dir, { 'models.txt': 'a\nb\nc\n' });
      await w.until((e) => e.filter((x) => x.event === 'finished' && x.stage === 'table').length === 2, 'the table again, with c');
      assert.equal(read(dir, 'table.txt'), 'a\nb\nc\n');
      assert.deepEqual(executions(dir).sort(), ['a', 'b', 'c'], 'only the new entry was fitted');
    } finally {
      await w.stop();
    }
  });
});
