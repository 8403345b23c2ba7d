import type { PROGRESS_PREFIX } from '../../../src/protocol/stage-protocol.js';
import type { Task } from '../../runtime/dataset-task.js';

/** Bump when TrainerSpec's shape changes (docs/trainer-protocol.md; python/pipeline_train.py reads it). */
export const TRAINER_PROTOCOL = 1;

/**
 * What a trainer script receives (its one argument, and PIPELINE_TRAINER_SPEC): the same facts
 * a built-in trainer works from, as JSON. Paths are relative to the project, the script's cwd.
 */
export interface TrainerSpec {
  protocol: typeof TRAINER_PROTOCOL;
  /** The instance id (`train@exp=cnn,fold=0`). */
  id: string;
  fold: number;
  task: Task;
  /** Class names in label order (binary: negative, positive); empty for regression. */
  classes: string[];
  /** The manifest column predicted (`label`, `source`, `age`, ...). */
  target: string;
  /** The experiment's params, nested (`train.lr` -> params.train.lr). */
  params: Record<string, unknown>;
  options: Record<string, unknown>;
  inputs: Record<string, string>;
  /** Where the run folder goes (the stage's `run` output); the script writes its files here. */
  run_dir: string;
  /** CSVs `id,file,label,source,group,fit`, one row per image of the fold's training / validation set: `id` is what oof.csv names, `file` the image. */
  train_list: string;
  val_list: string;
  n_train: number;
  n_val: number;
  /** Lines the script prints as `::progress {json}` on stdout reach the progress display and --json. */
  progress_prefix: typeof PROGRESS_PREFIX;
}
