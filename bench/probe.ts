/**
 * The baseline probe's solvers beside scikit-learn on the same data and machine (Debian's
 * python3-sklearn; bench/probe_sklearn.py writes the data and times sklearn): 1.4k x 768 x 10
 * classes one-vs-rest (one fold of the digit scans `init` meets), 50k x 768 binary and 50k x 768
 * ridge. The goal is <= 1x sklearn's L-BFGS; the answer must stay sklearn's exact optimum, so the
 * table also gives the largest coefficient difference to newton-cholesky run to tol 1e-12.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fitLogistic, fitOneVsRest, fitRidge } from '../stages/baseline/logistic.js';

export interface ProbeRow {
  problem: string;
  ours: number;
  lbfgs?: number;
  newtonCholesky?: number;
  ridge?: number;
  coefDifference: number;
}

interface SklearnEntry {
  n: number;
  d: number;
  task: 'multiclass' | 'binary' | 'regression';
  classes?: number;
  lbfgs?: number;
  'newton-cholesky'?: number;
  ridge?: number;
  coef: number[] | number[][];
  intercept: number | number[];
}

const script = fileURLToPath(new URL('../../bench/probe_sklearn.py', import.meta.url));

function rowsOf(dir: string, name: string, entry: SklearnEntry): { rows: Float64Array[]; y: number[] } {
  const xb = readFileSync(path.join(dir, `${name}.x.f64`));
  const x = new Float64Array(xb.buffer, xb.byteOffset, xb.length / 8);
  const yb = readFileSync(path.join(dir, `${name}.y.f64`));
  const y = Array.from(new Float64Array(yb.buffer, yb.byteOffset, yb.length / 8));
  return { rows: Array.from({ length: entry.n }, (_, i) => x.subarray(i * entry.d, (i + 1) * entry.d)), y };
}

const largestDifference = (a: readonly number[], b: readonly number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

export function probeSolvers(work: string): ProbeRow[] | string {
  mkdirSync(work, { recursive: true });
  process.stderr.write('probe: scikit-learn on the same problems (about a minute)...\n');
  const sk = spawnSync('/usr/bin/python3', [script, work, '3'], { encoding: 'utf8' });
  if (sk.status !== 0) return `scikit-learn could not run (apt-get install python3-sklearn): ${sk.stderr.trim().split('\n').pop()}`;
  const results = JSON.parse(readFileSync(path.join(work, 'sklearn.json'), 'utf8')) as Record<string, SklearnEntry>;
  const rows: ProbeRow[] = [];
  for (const [name, entry] of Object.entries(results)) {
    process.stderr.write(`probe: ours on ${name}...\n`);
    const { rows: x, y } = rowsOf(work, name, entry);
    const started = performance.now();
    let difference: number;
    if (entry.task === 'multiclass') {
      const models = fitOneVsRest(x, y, entry.classes!, 1);
      const coef = entry.coef as number[][];
      difference = Math.max(...models.map((m, k) => Math.max(largestDifference(m.coef, coef[k]), Math.abs(m.intercept - (entry.intercept as number[])[k]))));
    } else if (entry.task === 'binary') {
      const model = fitLogistic(x, y, 1);
      difference = Math.max(largestDifference(model.coef, entry.coef as number[]), Math.abs(model.intercept - (entry.intercept as number)));
    } else {
      const model = fitRidge(x, y, 1);
      difference = Math.max(largestDifference(model.coef, entry.coef as number[]), Math.abs(model.intercept - (entry.intercept as number)));
    }
    const seconds = (performance.now() - started) / 1000;
    rows.push({ problem: `${name} (${entry.n} x ${entry.d}${entry.classes ? ` x ${entry.classes} classes` : ''})`, ours: seconds, lbfgs: entry.lbfgs, newtonCholesky: entry['newton-cholesky'], ridge: entry.ridge, coefDifference: difference });
  }
  return rows;
}

export function probeTable(result: ProbeRow[] | string): string {
  if (typeof result === 'string') return `\nprobe solvers: ${result}\n`;
  const fmt = (s: number | undefined) => (s === undefined ? '' : s.toFixed(2));
  const ratio = (ours: number, peer: number | undefined) => (peer === undefined ? '' : `${(ours / peer).toFixed(1)}x`);
  const lines = ['', '| probe (sklearn objective, exact) | ours s | sklearn L-BFGS s | sklearn newton-cholesky s | sklearn Ridge s | ours / L-BFGS (or Ridge) | ours / newton-cholesky | max coef diff to exact |', '|---|---:|---:|---:|---:|---:|---:|---:|'];
  for (const r of result) lines.push(`| ${r.problem} | ${fmt(r.ours)} | ${fmt(r.lbfgs)} | ${fmt(r.newtonCholesky)} | ${fmt(r.ridge)} | ${ratio(r.ours, r.lbfgs ?? r.ridge)} | ${ratio(r.ours, r.newtonCholesky)} | ${r.coefDifference.toExponential(1)} |`);
  return lines.join('\n') + '\n';
}
