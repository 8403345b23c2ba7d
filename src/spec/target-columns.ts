import path from 'node:path';
import { UserError } from '../errors.js';
import { ancestors, isWithin } from '../paths.js';
import { manifestColumns, readManifestColumn, targetColumnProblem } from '../../stages/runtime/manifest-columns.js';
import type { StageInstance } from './model.js';
import type { ParamsLoader } from './params.js';

/**
 * `data.targets` against the dataset's manifest, at load, when it is the researcher's own folder (no stage writes it): a
 * column it lacks, values some images lack (how many, which) or a regression target with text
 * is a config error at the config's file:line, before anything trains. A dataset a stage
 * writes, the trainer checks the same way when it starts.
 */
export function checkTargetColumns(instances: readonly StageInstance[], projectDir: string, loader: ParamsLoader): void {
  let written: Set<string> | undefined;
  // A dataset a stage writes may be rebuilt by this very run (a column added to the CSV): its trainer checks it then.
  const byAStage = (dataset: string) => {
    written ??= new Set(instances.flatMap((i) => i.outs));
    return written.has(dataset) || ancestors(dataset).some((dir) => written!.has(dir)) || [...written].some((out) => isWithin(out, dataset));
  };
  for (const instance of instances) {
    const data = instance.params.data as { targets?: Record<string, { column?: string; task?: string }> } | undefined;
    const dataset = instance.ports?.inputs.dataset;
    if (instance.uses !== 'train' || !data?.targets || !dataset || byAStage(dataset)) continue;
    const dir = path.join(projectDir, dataset);
    // Not built yet: the trainer checks it when it starts.
    if (manifestColumns(dir).length === 0) continue;
    for (const [name, spec] of Object.entries(data.targets)) {
      const column = spec.column;
      if (!column || column === 'label' || column === 'source') continue;
      const where = () => loader.locateKey(instance.paramFiles, ['data', 'targets', name, 'column'], false) ?? instance.location;
      const problem = targetColumnProblem(dir, dataset, column);
      if (problem) throw new UserError(`data.targets.${name}.column: ${problem}`, where);
      const text = [...readManifestColumn(dir, column)!].find(([, v]) => !Number.isFinite(Number(v)));
      if (spec.task === 'regression' && text) throw new UserError(`data.targets.${name}: task regression, but ${column} of ${text[0]} is "${text[1]}", not a number`, where);
    }
  }
}
