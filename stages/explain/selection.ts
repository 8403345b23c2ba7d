import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { splitCsv } from '../runtime/manifest.js';
import type { Task } from '../runtime/dataset-task.js';
import { StageError } from '../runtime/stage.js';

/** Why an image is explained: the hardest errors of its kind, or the fixed sample per class x source. */
export type Selection = 'false_positive' | 'false_negative' | 'error' | 'sample';

/** One image to explain, from the out-of-fold predictions: the fold whose model did not train on it. */
export interface Chosen {
  path: string;
  fold: number;
  /** The fold's run folder. */
  runDir: string;
  label: number;
  source: string;
  /** Binary: P(positive); multi-class: P(predicted class); regression: the prediction. */
  score: number;
  /** The class (or, for regression, 0) the model predicted. */
  predicted: number;
  selection: Selection;
}

interface OofRow {
  path: string;
  label: number;
  source: string;
  score: number;
  predicted: number;
  /** How wrong: binary, the distance of the probability from the true label; multi-class, P(predicted) when wrong; regression, |error|. */
  wrongness: number;
  wrong: boolean;
}

function readOof(file: string, task: Task): OofRow[] {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
  const header = splitCsv(lines[0] ?? '');
  const column = (name: string) => header.indexOf(name);
  const [id, label, source, prob, pred] = ['id', 'label', 'source', 'prob', 'pred'].map(column);
  const classes = header.flatMap((h, i) => (/^p_\d+$/.test(h) ? [i] : []));
  if (id! < 0 || label! < 0 || source! < 0) throw new StageError(`${file}: oof.csv needs the columns id,label,source (docs/formats.md); it has ${header.join(',')}`);
  return lines.slice(1).map((line) => {
    const f = splitCsv(line);
    const y = Number(f[label!]);
    if (task === 'regression') {
      const p = Number(f[pred!]);
      return { path: f[id!]!, label: y, source: f[source!]!, score: p, predicted: 0, wrongness: Math.abs(p - y), wrong: true };
    }
    if (task === 'multiclass') {
      const probs = classes.map((i) => Number(f[i]));
      const predicted = pred! >= 0 ? Number(f[pred!]) : probs.indexOf(Math.max(...probs));
      return { path: f[id!]!, label: y, source: f[source!]!, score: probs[predicted]!, predicted, wrongness: predicted === y ? 0 : probs[predicted]!, wrong: predicted !== y };
    }
    const p = Number(f[prob!]);
    const predicted = pred! >= 0 ? Number(f[pred!]) : p >= 0.5 ? 1 : 0;
    return { path: f[id!]!, label: y, source: f[source!]!, score: p, predicted, wrongness: Math.abs(p - y), wrong: predicted !== y };
  });
}

/** The fold folders of an experiment's runs (fold<k>/ with oof.csv), by fold number. */
export function foldFolders(runsDir: string, experiment: string): { fold: number; dir: string }[] {
  const found = existsSync(runsDir)
    ? readdirSync(runsDir)
        .filter((d) => /^fold\d+$/.test(d) && existsSync(path.join(runsDir, d, 'oof.csv')))
        .map((d) => ({ fold: Number(d.slice(4)), dir: path.join(runsDir, d) }))
        .sort((a, b) => a.fold - b.fold)
    : [];
  if (found.length === 0) throw new StageError(`experiment ${experiment}: ${runsDir} has no fold<k>/oof.csv (deps: { runs: outputs/runs/${experiment} } names the folder its trainer writes; did it run?)`);
  return found;
}

/** Items in the order of their paths' SHA-256: the same order on any machine, whatever the file order. Each hash is computed once. */
export function byPathHash<T extends { path: string }>(items: readonly T[]): T[] {
  const keys = new Map(items.map((item) => [item.path, createHash('sha256').update(item.path).digest('hex')]));
  return [...items].sort((a, b) => (keys.get(a.path)! < keys.get(b.path)! ? -1 : keys.get(a.path)! > keys.get(b.path)! ? 1 : 0));
}

/**
 * A reproducible selection over every fold's out-of-fold predictions: the `errors` hardest false
 * positives and false negatives (binary; the most confident errors for multi-class, the largest
 * errors for regression), then `perGroup` images of every class x source not already chosen, in
 * the order of their paths' SHA-256 (the same images on any machine, whatever the file order).
 */
export function selectImages(folds: readonly { fold: number; dir: string }[], task: Task, errors: number, perGroup: number): Chosen[] {
  const rows = folds.flatMap(({ fold, dir }) => readOof(path.join(dir, 'oof.csv'), task).map((r) => ({ ...r, fold, runDir: dir })));
  // Ties in wrongness keep the path-hash order (the sort is stable).
  const hardest = (of: typeof rows, n: number) => byPathHash(of).sort((a, b) => b.wrongness - a.wrongness).slice(0, n);
  const chosen: Chosen[] = [];
  const take = (r: (typeof rows)[number], selection: Selection) => chosen.push({ path: r.path, fold: r.fold, runDir: r.runDir, label: r.label, source: r.source, score: r.score, predicted: r.predicted, selection });
  if (task === 'binary') {
    hardest(rows.filter((r) => r.wrong && r.label === 0), errors).forEach((r) => take(r, 'false_positive'));
    hardest(rows.filter((r) => r.wrong && r.label === 1), errors).forEach((r) => take(r, 'false_negative'));
  } else {
    hardest(rows.filter((r) => r.wrong), 2 * errors).forEach((r) => take(r, 'error'));
  }
  const taken = new Set(chosen.map((c) => c.path));
  const groupOf = (r: (typeof rows)[number]) => (task === 'regression' ? r.source : `${r.label}\0${r.source}`);
  const groups = [...new Set(rows.map(groupOf))].sort();
  for (const group of groups) {
    byPathHash(rows.filter((r) => groupOf(r) === group && !taken.has(r.path)))
      .slice(0, perGroup)
      .forEach((r) => take(r, 'sample'));
  }
  return chosen;
}
