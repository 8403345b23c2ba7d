import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { metricChanges, type ComparedResults, type MetricChange } from '../../stages/metrics/compare.js';
import { UserError } from '../errors.js';
import type { Workspace } from '../run/workspace.js';
import type { StageInstance } from '../spec/model.js';
import { metricsFilesOf } from './metrics-files.js';

export interface ExperimentDiff {
  a: { name: string; file: string };
  b: { name: string; file: string };
  changes: MetricChange[];
}

/**
 * The instance an experiment name means: an instance id or a stage with one instance, or the
 * aggregate whose `with.experiment` it is (`p1_cnn`), so a study's names work as they read.
 */
function experimentInstance(ws: Workspace, name: string): StageInstance {
  const named = ws.project.instances.filter((i) => i.with?.experiment === name && metricsFilesOf(i).length);
  // explain names its experiment too; the results are aggregate's.
  const byExperiment = named.length > 1 ? named.filter((i) => i.uses === 'aggregate') : named;
  if (byExperiment.length === 1) return byExperiment[0];
  if (!ws.project.byId.has(name) && !ws.project.stageNames.includes(name)) throw new UserError(`exp diff: no experiment "${name}" (an aggregate's with.experiment, e.g. ${ws.project.instances.filter((i) => i.uses === 'aggregate').slice(0, 3).map((i) => String(i.with?.experiment)).join(', ') || 'none here'}) and no instance of that id`, { file: ws.project.specFile });
  const matched = [...ws.graph.matching([name])].map((id) => ws.project.byId.get(id)!).filter((i) => metricsFilesOf(i).length);
  if (matched.length !== 1) {
    throw new UserError(`exp diff: "${name}" names ${matched.length} instances with metrics${matched.length ? ` (${matched.slice(0, 5).map((i) => i.id).join(', ')}${matched.length > 5 ? ', ...' : ''})` : ''}; give an experiment name (an aggregate's with.experiment) or one instance id`, { file: ws.project.specFile });
  }
  return matched[0];
}

/** Reads an aggregate's results (per-fold values: the t-test pairs them) or any metrics file of flat numbers. */
function readResults(ws: Workspace, instance: StageInstance): { file: string; results: ComparedResults } {
  const file = metricsFilesOf(instance)[0];
  const abs = path.join(ws.project.dir, file);
  if (!existsSync(abs)) throw new UserError(`exp diff: ${instance.id} has no ${file} yet (pipeline run ${instance.id})`, { file: ws.project.specFile });
  const data = JSON.parse(readFileSync(abs, 'utf8')) as Record<string, unknown>;
  if (typeof data.metrics === 'object' && data.metrics !== null) return { file, results: data as unknown as ComparedResults };
  // Several targets: each target's metrics as `<target>.<metric>`, its folds paired as a single target's are.
  if (typeof data.targets === 'object' && data.targets !== null) {
    const targets = Object.entries(data.targets as Record<string, ComparedResults>);
    const metrics = Object.fromEntries(targets.flatMap(([t, r]) => Object.entries(r.metrics).map(([m, v]) => [`${t}.${m}`, v])));
    return { file, results: { folds: data.folds as number[] | undefined, test_train_ratio: targets[0]?.[1].test_train_ratio ?? null, metrics } };
  }
  // A command stage's metrics file: its numbers, dotted, without folds to pair.
  const flat: ComparedResults['metrics'] = {};
  const walk = (node: unknown, prefix: string) => {
    if (typeof node === 'number') flat[prefix] = { mean: node };
    else if (typeof node === 'object' && node !== null && !Array.isArray(node)) for (const [k, v] of Object.entries(node)) walk(v, prefix ? `${prefix}.${k}` : k);
  };
  walk(data, '');
  return { file, results: { metrics: flat } };
}

/** `exp:target` names one target of a multi-target experiment (as the report lists it); anything else the whole experiment. */
function namedResults(ws: Workspace, name: string): { file: string; results: ComparedResults } {
  const at = name.lastIndexOf(':');
  if (at > 0 && !ws.project.byId.has(name)) {
    const [experiment, target] = [name.slice(0, at), name.slice(at + 1)];
    const instance = experimentInstance(ws, experiment);
    const file = metricsFilesOf(instance)[0];
    const abs = path.join(ws.project.dir, file);
    const data = existsSync(abs) ? (JSON.parse(readFileSync(abs, 'utf8')) as { targets?: Record<string, ComparedResults> }) : {};
    const one = data.targets?.[target];
    if (!one) throw new UserError(`exp diff: ${experiment} has no target ${target}${data.targets ? ` (its targets: ${Object.keys(data.targets).join(', ')})` : ' (it has one target: name it without :target)'}`, { file: ws.project.specFile });
    return { file, results: one };
  }
  return readResults(ws, experimentInstance(ws, name));
}

export function experimentDiff(ws: Workspace, a: string, b: string): ExperimentDiff {
  const [x, y] = [a, b].map((name) => namedResults(ws, name));
  return { a: { name: a, file: x.file }, b: { name: b, file: y.file }, changes: metricChanges(x.results, y.results) };
}
