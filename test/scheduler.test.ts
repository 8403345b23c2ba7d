import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { GpuPool } from '../src/run/gpu-pool.js';
import { cli, cliAsync, executions, jsonEvents, makeProject, read } from './helpers.js';

/** Each stage records [start, end] in spans/<name>, so overlap is read from side effects, not timing asserts. */
function spans(dir: string): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const name of readdirSync(path.join(dir, 'spans'))) {
    const [start, end] = readFileSync(path.join(dir, 'spans', name), 'utf8').trim().split(/\s+/).map(Number);
    out.set(name, [start, end]);
  }
  return out;
}
const overlaps = (a: [number, number], b: [number, number]) => a[0] < b[1] && b[0] < a[1];
const timed = (name: string, extra = '') =>
  `mkdir -p spans && s=$(date +%s%N) && sleep 0.4 && ${extra} echo "$s $(date +%s%N)" > spans/${name} && echo ${name} > out/${name}`;

describe('scheduler', () => {
  it('runs independent stages in parallel within --jobs', () => {
    const stages = ['x', 'y', 'z'].flatMap((n) => [`  ${n}:`, `    cmd: ${timed(n)}`, `    outs: [out/${n}]`]);
    const dir = makeProject({ 'pipeline.yaml': ['stages:', ...stages].join('\n') });
    assert.equal(cli(dir, ['run', '--jobs', '2']).code, 0);
    const s = [...spans(dir).values()];
    // The most stages running at one instant: at some stage's start, count those running then.
    // (A sliding window may overlap z with x and with y in turn; never all three at once.)
    const most = Math.max(...s.map(([start]) => s.filter(([a, b]) => a <= start && start < b).length));
    assert.equal(most, 2, 'two stages ran at the same time, never three, with --jobs 2');
  });

  it('gives gpu stages distinct CUDA_VISIBLE_DEVICES from --gpus', () => {
    const stages = ['g1', 'g2'].flatMap((n) => [`  ${n}:`, `    cmd: ${timed(n, `echo $CUDA_VISIBLE_DEVICES > cuda-${n} &&`)}`, '    resources: { gpu: 1 }', `    outs: [out/${n}]`]);
    const dir = makeProject({ 'pipeline.yaml': ['stages:', ...stages].join('\n') });
    assert.equal(cli(dir, ['run', '--jobs', '4', '--gpus', '0,1']).code, 0);
    assert.deepEqual([read(dir, 'cuda-g1').trim(), read(dir, 'cuda-g2').trim()].sort(), ['0', '1']);
    assert.ok(overlaps(spans(dir).get('g1')!, spans(dir).get('g2')!));
  });

  it('without a GPU pool, gpu stages run one at a time and the environment is left alone', () => {
    const stages = ['g1', 'g2'].flatMap((n) => [`  ${n}:`, `    cmd: ${timed(n, `echo "[$CUDA_VISIBLE_DEVICES]" > cuda-${n} &&`)}`, '    resources: { gpu: 1 }', `    outs: [out/${n}]`]);
    const dir = makeProject({ 'pipeline.yaml': ['stages:', ...stages].join('\n') });
    const r = cli(dir, ['run', '--jobs', '4'], { CUDA_VISIBLE_DEVICES: '' });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!overlaps(spans(dir).get('g1')!, spans(dir).get('g2')!));
    assert.equal(read(dir, 'cuda-g1').trim(), '[]');
  });

  it('packs fractional gpu stages onto one device', async () => {
    const pool = new GpuPool(['0', '1']);
    const a = await pool.acquire(0.5);
    const b = await pool.acquire(0.5);
    assert.deepEqual(a.ids, b.ids, 'two halves share a device');
    const whole = await pool.acquire(1);
    assert.notDeepEqual(whole.ids, a.ids);
    let third = false;
    const pending = pool.acquire(0.5).then((lease) => {
      third = true;
      return lease;
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(third, false, 'no room until something is released');
    a.release();
    const c = await pending;
    assert.deepEqual(c.ids, b.ids);
  });

  it('Ctrl-C stops running stages, keeps finished ones, and leaves the lock consistent', async () => {
    const dir = makeProject({
      'pipeline.yaml': [
        'stages:',
        '  quick:',
        '    cmd: echo quick >> runs.log && echo q > quick.txt',
        '    outs: [quick.txt]',
        '  slow:',
        '    cmd: echo slow-start >> runs.log && sleep 30 && echo s > slow.txt',
        '    deps: [quick.txt]',
        '    outs: [slow.txt]',
      ].join('\n'),
    });
    const child = cliAsync(dir, ['run']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const started = Date.now();
    while (!executions(dir).includes('slow-start') && Date.now() - started < 20000) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 130, stderr);
    assert.ok(Date.now() - started < 20000, 'the sleeping stage was killed, not waited for');
    assert.match(read(dir, 'pipeline.lock'), /quick:/);
    assert.doesNotMatch(read(dir, 'pipeline.lock'), /slow:/);
    assert.ok(!existsSync(path.join(dir, 'slow.txt')));
    const status = cli(dir, ['status']).stdout;
    assert.doesNotMatch(status, /^quick/m);
    assert.match(status, /^slow: never run/m);
  });

  it('a second run in the same project waits for the first and then finds nothing to do', async () => {
    // The stage holds until the test says go, so a slow machine cannot let it finish before the second run starts.
    const dir = makeProject({ 'pipeline.yaml': 'stages:\n  s:\n    cmd: echo s >> runs.log && while [ ! -f go ]; do sleep 0.05; done && echo s > s.txt\n    outs: [s.txt]\n' });
    const first = cliAsync(dir, ['run']);
    while (!executions(dir).includes('s')) await new Promise((r) => setTimeout(r, 50));
    const refused = cli(dir, ['run', '--no-wait']);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /another pipeline run \(pid \d+/);
    const second = cliAsync(dir, ['run']);
    let stderr = '';
    second.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const deadline = Date.now() + 30000;
    while (!/waiting for it to finish/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    writeFileSync(path.join(dir, 'go'), '');
    const [c1, c2] = await Promise.all([first, second].map((c) => new Promise<number | null>((resolve) => c.on('exit', resolve))));
    assert.equal(c1, 0);
    assert.equal(c2, 0);
    assert.match(stderr, /waiting for it to finish/);
    assert.deepEqual(executions(dir), ['s'], 'the second run did not execute the stage again');
  });
});

for (const [how, env] of [
  ['the shell launcher', {}],
  ["Node's spawn (PIPELINE_LAUNCHER=node)", { PIPELINE_LAUNCHER: 'node' }],
] as const) {
  describe(`stages started through ${how}`, () => {
    it('get their env and cwd and a process group of their own, write both streams to the log, report progress and exit codes', () => {
      const dir = makeProject({
        'pipeline.yaml': [
          'stages:',
          '  talk:',
          // Long enough for the log to be read while it runs; progress must not wait for the end.
          `    cmd: echo '::progress {"step":1}' && echo to-stderr >&2 && sleep 0.8 && echo "$QUOTED|$PIPELINE_STAGE|$(pwd)" > seen.txt && ps -o pgid= -p $$ | tr -d ' ' > group.txt && echo $$ > pid.txt`,
          '    env: {QUOTED: "it\'s $HOME"}',
          '    outs: [seen.txt, group.txt, pid.txt]',
          '  fail:',
          '    cmd: echo failing && exit 3',
        ].join('\n'),
      });
      const r = cli(dir, ['run', '--json', '--keep-going'], env);
      assert.equal(r.code, 1, r.stderr);
      const events = jsonEvents(r.stdout);
      assert.ok(events.some((e) => e.event === 'progress' && e.stage === 'talk' && (e.data as { step?: number }).step === 1), r.stdout);
      const failed = events.find((e) => e.event === 'failed');
      assert.equal(failed?.stage, 'fail');
      assert.equal(failed?.exit_code, 3);
      assert.match(String(failed?.log_tail), /failing/);
      assert.equal(read(dir, 'seen.txt').trim(), `it's $HOME|talk|${realpathSync(dir)}`);
      assert.equal(read(dir, 'group.txt').trim(), read(dir, 'pid.txt').trim(), 'the stage leads its own process group');
      const log = readFileSync(path.join(dir, 'cache', 'logs', 'talk.log'), 'utf8');
      assert.match(log, /::progress/);
      assert.match(log, /to-stderr/);
    });
  });
}

