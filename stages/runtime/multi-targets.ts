import type { Task } from './dataset-task.js';
import { targetColumnProblem, type Sample } from './manifest.js';
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
  return Object.entries(specs).map(([name, spec]) => {
    const problem = spec.column === 'label' || spec.column === 'source' ? undefined : targetColumnProblem(dataDir, dataDir, spec.column, samples.map((s) => s.path));
    if (problem) throw new StageError(`data.targets.${name}.column: ${problem}`);
    try {
      return { name, targets: resolveTargets(samples, dataDir, splitTask, { target: spec.column, ...(spec.task ? { task: spec.task } : {}) }), weight: spec.weight ?? 1, loss: spec.loss ?? 'mse' };
    } catch (error) {
      throw error instanceof StageError ? new StageError(`data.targets.${name}: ${error.message.replace(/^data\.target: /, '')}`) : error;
    }
  });
}
