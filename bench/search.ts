import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface SearchRow {
  trials: number;
  /** Median seconds of `pipeline status` on the search (load, expand, plan). */
  status: number;
  /** Median seconds of Node starting and exiting: the floor any CLI run pays. */
  node: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function seconds(command: string, args: string[], cwd: string): number {
  const start = performance.now();
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${r.stderr.slice(-1000)}`);
  return (performance.now() - start) / 1000;
}

/** Plans a random search of `trials` trials x 1 fold (instances, keys, status) with nothing built yet: DESIGN's "under a second" for 10,000. */
export function searchPlanning(root: string, cli: string, trials: number): SearchRow {
  const dir = path.join(root, `search-${trials}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'configs'), { recursive: true });
  writeFileSync(path.join(dir, 'configs/base.yaml'), 'train: { lr: 0.1, weight_decay: 0 }\nmodel: { width: 4 }\n');
  writeFileSync(
    path.join(dir, 'pipeline.yaml'),
    [
      'stages:',
      '  tune:',
      '    matrix: { fold: [0] }',
      '    search:',
      '      base: configs/base.yaml',
      '      method: random',
      `      trials: ${trials}`,
      '      space:',
      '        train.lr: { loguniform: [0.0001, 0.01] }',
      '        train.weight_decay: { choice: [0, 0.0001, 0.001] }',
      '        model.width: { int: [8, 64] }',
      '    cmd: echo ${train.lr} ${model.width} > "out/${trial.name}/fold${fold}.txt"',
      '    outs: ["out/${trial.name}/fold${fold}.txt"]',
      '',
    ].join('\n'),
  );
  const status = median([0, 1, 2].map(() => seconds(process.execPath, [cli, 'status', '--json'], dir)));
  const node = median([0, 1, 2].map(() => seconds(process.execPath, ['-e', ''], dir)));
  rmSync(dir, { recursive: true, force: true });
  return { trials, status, node };
}

export function searchTable(rows: readonly SearchRow[]): string {
  const lines = ['', '| planning a random search (trials x 1 fold, nothing built) | `pipeline status` (s) | Node start (s) | goal |', '|---|---:|---:|---|'];
  for (const r of rows) lines.push(`| ${r.trials.toLocaleString('en')} trials | ${r.status.toFixed(3)} | ${r.node.toFixed(3)} | ${r.trials === 10_000 ? (r.status < 1 ? 'under 1 s: met' : 'under 1 s: NOT met') : ''} |`);
  return lines.join('\n') + '\n';
}
