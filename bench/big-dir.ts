/**
 * A directory dep of many small files (1M; 100k with --quick): pipeline's cold run, no-op and
 * one-changed-file run beside the stat floor (`find -printf` of every file's inode, size and
 * mtime: what any tool must at least do to notice a change), time and peak RSS (GNU time).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BigDirRow {
  what: string;
  seconds: number;
  peakMb: number;
  /** vs the stat floor. */
  ratio?: number;
  note?: string;
}

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'pipeline.js');

function timed(dir: string, command: string, args: string[]): { seconds: number; peakMb: number; stdout: string } {
  const started = performance.now();
  const run = spawnSync('/usr/bin/time', ['-f', 'PEAK_KB %M', command, ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30 });
  const peak = /PEAK_KB (\d+)/.exec(run.stderr);
  if (run.status !== 0 || !peak) throw new Error(`${command} ${args.join(' ')} failed in ${dir}:\n${run.stderr.slice(-2000)}`);
  return { seconds: (performance.now() - started) / 1000, peakMb: Number(peak[1]) / 1024, stdout: run.stdout };
}

export function bigDirectory(root: string, files: number): BigDirRow[] {
  const dir = path.join(root, `big-dir-${files}`);
  rmSync(dir, { recursive: true, force: true });
  const perDir = 1000;
  for (let d = 0; d < files / perDir; d++) {
    const sub = path.join(dir, 'data', `d${d}`);
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < perDir; f++) writeFileSync(path.join(sub, `f${f}.txt`), `${d} ${f}\n`);
  }
  writeFileSync(path.join(dir, 'pipeline.yaml'), ['version: 1', 'stages:', '  count:', '    cmd: echo ran >> runs.log', '    deps: [data]', '    outs: [runs.log]'].join('\n') + '\n');
  const node = process.execPath;
  const floor = () => timed(dir, 'find', ['data', '-printf', '%i %s %T@\\n']);
  floor(); // warm the dentry and inode caches for every measurement alike
  const rows: BigDirRow[] = [];
  const cold = timed(dir, node, [cli, 'run']);
  rows.push({ what: 'cold run (hash every file)', seconds: cold.seconds, peakMb: cold.peakMb });
  // A full up-to-date run after the racy window writes the no-op summary.
  spawnSync('sleep', ['0.2']);
  timed(dir, node, [cli, 'run']);
  const stat = floor();
  rows.push({ what: 'stat floor: find -printf inode, size, mtime', seconds: stat.seconds, peakMb: stat.peakMb });
  const noop = timed(dir, node, [cli, 'run']);
  rows.push({ what: 'no-op run', seconds: noop.seconds, peakMb: noop.peakMb, ratio: noop.seconds / stat.seconds });
  writeFileSync(path.join(dir, 'data', 'd7', 'f7.txt'), 'edited\n');
  const status = timed(dir, node, [cli, 'status']);
  rows.push({ what: 'status after one file changed', seconds: status.seconds, peakMb: status.peakMb, ratio: status.seconds / stat.seconds, note: status.stdout.split('\n')[0] });
  const one = timed(dir, node, [cli, 'run']);
  rows.push({ what: 'run after one file changed', seconds: one.seconds, peakMb: one.peakMb, ratio: one.seconds / stat.seconds });
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

export function bigDirTable(files: number, rows: BigDirRow[]): string {
  const lines = ['', `| a directory dep of ${files.toLocaleString('en')} files | seconds | vs stat floor | peak RSS MB | |`, '|---|---:|---:|---:|---|'];
  for (const r of rows) lines.push(`| ${r.what} | ${r.seconds.toFixed(2)} | ${r.ratio ? `${r.ratio.toFixed(2)}x` : ''} | ${r.peakMb.toFixed(0)} | ${r.note ?? ''} |`);
  return lines.join('\n') + '\n';
}
