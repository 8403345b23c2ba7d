import path from 'node:path';
import type { Task } from './dataset-task.js';
import { manifestColumns, MANIFEST, readManifestColumn, type Sample } from './manifest.js';
import { StageError } from './stage.js';
import { resolveTargets, type Targets } from './targets.js';

/** One entry of `data.targets` as written. */
export interface TargetSpec {
  column: string;
  task?: Task;
  loss?: 'mse' | 'huber';
  weight?: number;
}

/** A target of a multi-task run: its name, what it predicts, and its share of the loss. */
export interface NamedTarget {
  name: string;
  targets: Targets;
  weight: number;
  loss: 'mse' | 'huber';
}

/**
 * Every `data.targets` entry resolved against the split's samples, checked before anything
 * trains: a column the manifest lacks, or values missing for some images (how many, which).
 */
export function resolveNamedTargets(samples: readonly Sample[], dataDir: string, splitTask: Task, specs: Record<string, TargetSpec>): NamedTarget[] {
  const file = path.join(dataDir, MANIFEST);
  const header = manifestColumns(dataDir);
  return Object.entries(specs).map(([name, spec]) => {
    const key = `data.targets.${name}.column`;
    if (spec.column !== 'label' && spec.column !== 'source') {
      if (!header.includes(spec.column)) throw new StageError(`${key}: ${spec.column} is not a column of ${file} (it has: ${header.join(', ') || 'no manifest'})`);
      const values = readManifestColumn(dataDir, spec.column)!;
      const empty = samples.filter((s) => (values.get(s.path) ?? '').trim() === '');
      if (empty.length) throw new StageError(`${key}: ${spec.column} is empty for ${empty.length} of ${samples.length} images (${empty.slice(0, 5).map((s) => s.path).join(', ')}${empty.length > 5 ? ', ...' : ''}); fill them in, or exclude those images in the images stage`);
    }
    try {
      return { name, targets: resolveTargets(samples, dataDir, splitTask, { target: spec.column, ...(spec.task ? { task: spec.task } : {}) }), weight: spec.weight ?? 1, loss: spec.loss ?? 'mse' };
    } catch (error) {
      throw error instanceof StageError ? new StageError(`data.targets.${name}: ${error.message.replace(/^data\.target: /, '')}`) : error;
    }
  });
}
