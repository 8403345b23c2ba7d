import { UserError, type Where } from '../errors.js';
import type { ExecutorKind } from './executor.js';
import { local } from './local.js';
import { slurm } from './slurm.js';

/** Every executor: a new one is a file in src/executors/ plus one entry here. */
export const executorKinds: readonly ExecutorKind[] = [local, slurm];

export const executorNames = (): string[] => executorKinds.map((k) => k.name);

export function executorKind(name: string, where?: Where): ExecutorKind {
  const kind = executorKinds.find((k) => k.name === name);
  if (!kind) throw new UserError(`unknown executor "${name}" (available: ${executorNames().join(', ')})`, where);
  return kind;
}
