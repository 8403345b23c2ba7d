import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { youdenThreshold } from '../../metrics/metrics.js';
import { scoreFold, type FoldMetrics, type RunInfo } from '../../runtime/run-folder.js';
import { scoreTaskFold, type TaskFoldMetrics } from '../../runtime/task-run-folder.js';
import { splitCsv, type Sample } from '../../runtime/manifest.js';
import type { Targets } from '../../runtime/targets.js';

/**
 * What a trainer script's run folder must hold for `aggregate` and `report` to read it as they
 * read the built-in's (docs/formats.md), checked when the script exits: every validation image
 * predicted once, metrics.json's numbers equal to what its predictions give, and the threshold
 * chosen on the training predictions. Returns the problems, worst first; empty when it is sound.
 */
export interface FoldSets {
  fold: number;
  targets: Targets;
  trainSet: readonly Sample[];
  valSet: readonly Sample[];
}

/** Files the protocol requires (history.json is optional, as for any trainer). */
export const REQUIRED_FILES = ['metrics.json', 'oof.csv', 'train_predictions.csv'] as const;
const TOLERANCE = 1e-6;

interface Predictions {
  /** Binary: P(positive); multi-class: one probability per class; regression: the prediction. */
  rows: number[][];
}

export function checkRunFolder(dir: string, sets: FoldSets): string[] {
  const missing = REQUIRED_FILES.filter((file) => !existsSync(path.join(dir, file)));
  if (missing.length) return [`${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing from ${dir} (docs/trainer-protocol.md lists what a run folder holds)`];
  const problems: string[] = [];
  const val = readPredictions(path.join(dir, 'oof.csv'), sets.valSet, sets.targets, 'validation', problems);
  const train = readPredictions(path.join(dir, 'train_predictions.csv'), sets.trainSet, sets.targets, 'training', problems);
  let written: Record<string, unknown>;
  try {
    written = JSON.parse(readFileSync(path.join(dir, 'metrics.json'), 'utf8')) as Record<string, unknown>;
  } catch (error) {
    return [...problems, `metrics.json is not JSON: ${(error as Error).message}`];
  }
  if (history(dir, problems) && val && train) compareMetrics(written, expected(written, sets, train, val), sets, val, problems);
  return problems;
}

function history(dir: string, problems: string[]): boolean {
  const file = path.join(dir, 'history.json');
  if (!existsSync(file)) return true;
  try {
    const list = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (!Array.isArray(list) || list.some((e) => typeof e !== 'object' || e === null || typeof (e as { epoch?: unknown }).epoch !== 'number')) problems.push('history.json must be a list of {epoch, ...} objects, one per epoch');
  } catch (error) {
    problems.push(`history.json is not JSON: ${(error as Error).message}`);
  }
  return true;
}

/** The prediction columns a task's oof.csv has after id,label,source. */
function predictionColumns(targets: Targets): string[] {
  if (targets.task === 'binary') return ['prob'];
  if (targets.task === 'multiclass') return targets.classNames.map((_, k) => `p_${k}`);
  return ['pred'];
}

function readPredictions(file: string, set: readonly Sample[], targets: Targets, which: string, problems: string[]): Predictions | undefined {
  const name = path.basename(file);
  const [head, ...lines] = readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = splitCsv(head ?? '');
  const columns = ['id', 'label', ...predictionColumns(targets)];
  const absent = columns.filter((c) => !header.includes(c));
  if (absent.length) {
    problems.push(`${name}: no column ${absent.join(', ')} (a ${targets.task} run's columns: id,label,source,${predictionColumns(targets).join(',')}${targets.task === 'regression' ? '' : ',pred'})`);
    return undefined;
  }
  const at = columns.map((c) => header.indexOf(c));
  const byId = new Map(set.map((s, i) => [s.path, i]));
  const rows: (number[] | undefined)[] = new Array(set.length);
  const unknown: string[] = [];
  const twice: string[] = [];
  const relabelled: string[] = [];
  const notNumbers: string[] = [];
  for (const line of lines) {
    const cells = splitCsv(line);
    const [id, label, ...values] = at.map((i) => cells[i] ?? '');
    const index = byId.get(id);
    if (index === undefined) unknown.push(id);
    else if (rows[index]) twice.push(id);
    else {
      const numbers = values.map(Number);
      if (numbers.some((v) => !Number.isFinite(v) || values.some((v) => v.trim() === ''))) notNumbers.push(id);
      if (Number(label) !== set[index].label) relabelled.push(`${id} (${label}, the fold's label is ${set[index].label})`);
      rows[index] = numbers;
    }
  }
  const absentIds = set.filter((_, i) => !rows[i]).map((s) => s.path);
  const few = (list: string[]) => `${list.slice(0, 3).join(', ')}${list.length > 3 ? `, ... (${list.length})` : ''}`;
  const before = problems.length;
  if (absentIds.length) problems.push(`${name}: ${absentIds.length} of the ${set.length} ${which} images have no prediction: ${few(absentIds)}`);
  if (unknown.length) problems.push(`${name}: ${unknown.length} rows are not ${which} images of this fold: ${few(unknown)} (ids are the train_list/val_list ids)`);
  if (twice.length) problems.push(`${name}: ${twice.length} images are predicted twice: ${few(twice)}`);
  if (relabelled.length) problems.push(`${name}: labels that are not the fold's: ${few(relabelled)}`);
  if (notNumbers.length) problems.push(`${name}: predictions that are not finite numbers: ${few(notNumbers)}`);
  return problems.length === before ? { rows: rows as number[][] } : undefined;
}

/** metrics.json as the built-in would write it from these predictions (the script's run facts kept). */
function expected(written: Record<string, unknown>, sets: FoldSets, train: Predictions, val: Predictions): FoldMetrics | TaskFoldMetrics {
  const info: RunInfo = {
    best_epoch: Number(written.best_epoch),
    epochs_run: Number(written.epochs_run),
    backend: String(written.backend),
    backend_detail: String(written.backend_detail ?? ''),
    parameters: Number(written.parameters),
    images_seen: Number(written.images_seen),
  };
  const base = { fold: sets.fold, trainSet: sets.trainSet, valSet: sets.valSet };
  if (sets.targets.task === 'binary') return scoreFold({ ...base, trainProbs: train.rows.map((r) => r[0]), valProbs: val.rows.map((r) => r[0]) }, info);
  return scoreTaskFold(sets.targets, { ...base, train: train.rows, val: val.rows }, info);
}

function compareMetrics(written: Record<string, unknown>, want: FoldMetrics | TaskFoldMetrics, sets: FoldSets, val: Predictions, problems: string[]): void {
  for (const key of ['best_epoch', 'epochs_run'] as const) {
    if (!Number.isInteger(written[key]) || (written[key] as number) < 1) problems.push(`metrics.json: ${key} must be a whole number >= 1 (got ${JSON.stringify(written[key])})`);
  }
  if (typeof written.backend !== 'string' || written.backend === '') problems.push('metrics.json: backend must say where it trained (e.g. "pytorch-cuda")');
  for (const key of ['fold', 'n_train', 'n_val'] as const) {
    if (written[key] !== want[key]) problems.push(`metrics.json: ${key} is ${JSON.stringify(written[key])}, this fold's is ${want[key]}`);
  }
  if ('task' in want && written.task !== want.task) problems.push(`metrics.json: task is ${JSON.stringify(written.task)}, this run is ${want.task}`);
  if (sets.targets.task === 'binary') {
    const threshold = (written.val as { threshold?: unknown } | undefined)?.threshold;
    const chosen = (want as FoldMetrics).val.threshold;
    if (typeof threshold === 'number' && Math.abs(threshold - chosen) > TOLERANCE) {
      const onValidation = youdenThreshold(sets.valSet.map((s) => s.label), val.rows.map((r) => r[0]));
      const why = Math.abs(threshold - onValidation) <= TOLERANCE ? 'it is the one the validation images give: a threshold chosen on the images it scores flatters accuracy' : 'it is neither';
      problems.push(`metrics.json: val.threshold is ${threshold}, but Youden's J on the training predictions gives ${chosen}; ${why} (docs/formats.md: the threshold is chosen on train_predictions.csv)`);
      return;
    }
  }
  for (const [part, value] of Object.entries(want)) {
    if (!['val', 'train', 'per_source_auc', 'val_by_target_bin'].includes(part)) continue;
    const differences: string[] = [];
    compareValue(written[part], value, part, differences);
    if (differences.length) problems.push(`metrics.json disagrees with ${part === 'train' ? 'train_predictions.csv' : 'oof.csv'}: ${differences.slice(0, 4).join('; ')}${differences.length > 4 ? `; ... (${differences.length})` : ''}`);
  }
}

function compareValue(got: unknown, want: unknown, at: string, out: string[]): void {
  if (typeof want === 'number' || want === null) {
    const expectedNumber = want === null || Number.isNaN(want) ? null : want;
    const gotNumber = got === null || (typeof got === 'number' && Number.isNaN(got)) ? null : got;
    if (expectedNumber === null ? gotNumber !== null : typeof gotNumber !== 'number' || Math.abs(gotNumber - expectedNumber) > TOLERANCE * Math.max(1, Math.abs(expectedNumber))) {
      out.push(`${at} is ${JSON.stringify(got)}, the predictions give ${expectedNumber === null ? 'null' : Number(expectedNumber.toPrecision(8))}`);
    }
    return;
  }
  if (typeof want !== 'object') return;
  if (typeof got !== 'object' || got === null) {
    out.push(`${at} is missing`);
    return;
  }
  for (const [key, child] of Object.entries(want as Record<string, unknown>)) compareValue((got as Record<string, unknown>)[key], child, `${at}.${key}`, out);
}
