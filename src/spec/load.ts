import { existsSync } from 'node:fs';
import path from 'node:path';
import jsYaml from 'js-yaml';
import { UserError, type Where } from '../errors.js';
import type { Project, StageInstance } from './model.js';
import { ParamsLoader } from './params.js';
import { isWithin } from '../paths.js';
import { ProjectLayout } from '../store/layout.js';
import { CheckedOptions } from './checked-options.js';
import { readValidatedSpec } from './spec-cache.js';
import { applyOverrides, checkedPath, StageExpander, type RawStage, type SpecContext } from './stage-expander.js';
import type { YamlSource } from './yaml-source.js';
import type { RemoteConfig } from '../remotes/remote.js';
import { pipelineDialect } from './dialect.js';
import { DvcContext, type VarsEntry } from './dvc/context.js';
import { dvcDialect } from './dvc/dialect.js';
import { parsingConfig } from './dvc/config.js';
import { dvcRepositoryRoot } from './dvc/root.js';
import { parsePlotEntry } from './plot-entries.js';
import { checkBuiltinParams, type ParamsUse } from './params-check.js';
import { checkTargetColumns } from './target-columns.js';

export interface LoadOptions {
  /** Path to pipeline.yaml (absolute or relative to cwd). */
  specFile: string;
  /** `-S key=value` overrides, applied to global params and to every matrix config. */
  overrides?: string[];
}


interface RawSpec {
  version?: number;
  remote?: RemoteConfig;
  executor?: string;
  params?: string[];
  strict_params?: boolean;
  stages: Record<string, RawStage>;
  /** dvc.yaml only. */
  vars?: VarsEntry[];
  metrics?: string[];
  plots?: unknown[];
}


export function loadProject(options: LoadOptions): Project {
  const specAbs = path.resolve(options.specFile);
  const specDir = path.dirname(specAbs);
  const specName = path.basename(specAbs);
  const dvc = specName === 'dvc.yaml';
  const dir = projectRootOf(specAbs);
  const base = path.relative(dir, specDir).split(path.sep).join('/');
  const specFile = path.posix.join(base, specName);
  const source = readValidatedSpec(specAbs, specName, specDir, dvc ? 'dvc.yaml' : 'pipeline.yaml');
  const raw = source.data as RawSpec;
  const overrides = parseOverrides(options.overrides ?? []);
  const loader = new ParamsLoader(dir);

  const inputFiles = new Set<string>([specFile]);
  // .dvc/config's [parsing] changes how commands unpack: an edit re-reads the spec.
  if (dvc) for (const name of ['.dvc/config', '.dvc/config.local']) if (existsSync(path.join(dir, name))) inputFiles.add(name);
  const spec: SpecContext = {
    source,
    dir,
    base,
    loader,
    params: {},
    overrides,
    dialect: dvc ? dvcDialect(parsingConfig(dir)) : pipelineDialect,
    globalFiles: [],
    strictParams: raw.strict_params !== false,
  };
  if (dvc) {
    // DVC's meaning: params.yaml beside the spec, then `vars:`; a top-level `params:` lists files
    // the stages write (dvclive's), not params to read.
    const paramsFile = path.posix.join(base, 'params.yaml');
    let context = DvcContext.empty();
    if (existsSync(path.join(dir, paramsFile))) {
      const resolved = loader.load(paramsFile);
      resolved.files.forEach((f) => inputFiles.add(f));
      spec.globalFiles.push(...resolved.files);
      context = context.with(applyOverrides(resolved.values, overrides), paramsFile, { file: paramsFile });
    }
    const varsFiles = new Set<string>();
    context = context.withVars(raw.vars ?? [], base, loader, (index) => () => source.locate(['vars', index]), varsFiles);
    varsFiles.forEach((f) => inputFiles.add(f));
    spec.globalFiles.push(...varsFiles);
    spec.dvc = { context, paramsFile };
    spec.params = context.tree;
  } else {
    (raw.params ?? []).forEach((file, index) => {
      const rel = checkedPath(file, () => source.locate(['params', index]));
      const resolved = withLocation(() => loader.load(rel), () => source.locate(['params', index]));
      resolved.files.forEach((f) => inputFiles.add(f));
      spec.globalFiles.push(...resolved.files);
      spec.params = { ...spec.params, ...resolved.values };
    });
    spec.params = applyOverrides(spec.params, overrides);
  }

  spec.checkedOptions = new CheckedOptions(new ProjectLayout(dir, undefined, specDir).state('options.json'));
  const instances: StageInstance[] = [];
  const globs: { pattern: string; matches: string[] }[] = [];
  const paramsUses: ParamsUse[] = [];
  for (const [name, stage] of Object.entries(raw.stages ?? {})) {
    const expander = new StageExpander(name, stage, spec);
    for (const instance of expander.expand()) instances.push(instance);
    expander.files.forEach((f) => inputFiles.add(f));
    globs.push(...expander.globs);
    paramsUses.push(...expander.paramsUses);
  }
  checkTargetColumns(instances, dir, loader);
  const warnings = checkBuiltinParams(paramsUses, { loader, overrides, commandStages: instances.some((i) => i.uses === undefined), checked: spec.checkedOptions });
  if (dvc) warnings.push(...shadowedEntryNames(raw.stages ?? {}, spec.params));
  spec.checkedOptions.save();
  const metrics = dvc ? (raw.metrics ?? []).map((file, index) => checkedPath(file, () => source.locate(['metrics', index]), false, base)) : [];
  const plots = dvc ? (raw.plots ?? []).map((entry, index) => parsePlotEntry(entry, base, () => source.locate(['plots', index]))) : [];
  // A top-level metrics file that a stage writes is that stage's metrics file (exp show, metrics diff).
  for (const file of metrics) {
    const producer = instances.find((i) => i.outs.some((out) => isWithin(file, out)));
    if (producer && !producer.metrics.includes(file)) producer.metrics.push(file);
  }

  const byId = new Map<string, StageInstance>();
  for (const instance of instances) {
    const prior = byId.get(instance.id);
    if (prior) {
      throw new UserError(`two stage instances share the id "${instance.id}"; make matrix values distinct`, instance.location);
    }
    byId.set(instance.id, instance);
  }
  resolveAfter(instances, Object.keys(raw.stages ?? {}), source);
  return {
    ...(raw.remote ? { remote: raw.remote } : {}),
    ...(raw.executor ? { executor: raw.executor } : {}),
    dir,
    specFile,
    specDir,
    metrics,
    plots,
    params: spec.params,
    warnings,
    inputFiles: [...inputFiles],
    instances,
    globs,
    byId,
    stageNames: Object.keys(raw.stages ?? {}),
  };
}


/** The folder every path of the spec is relative to: its own, or for a dvc.yaml its repository root (DVC's meaning). */
export function projectRootOf(specAbs: string): string {
  const specDir = path.dirname(specAbs);
  return path.basename(specAbs) === 'dvc.yaml' ? dvcRepositoryRoot(specDir) : specDir;
}


function parseOverrides(items: string[]): [string, unknown][] {
  return items.map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UserError(`-S ${item}: expected key=value, e.g. -S train.lr=3e-4`);
    const key = item.slice(0, eq).trim();
    const text = item.slice(eq + 1);
    let value: unknown;
    try {
      value = jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA });
    } catch {
      value = text;
    }
    return [key, value];
  });
}


function withLocation<T>(fn: () => T, where: Where): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof UserError && error.message === 'file not found' && !error.location?.line) {
      throw new UserError(`params file ${error.location?.file} not found`, where);
    }
    throw error;
  }
}


function resolveAfter(instances: StageInstance[], stageNames: string[], source: YamlSource): void {
  const byStage = new Map<string, StageInstance[]>();
  for (const instance of instances) {
    const list = byStage.get(instance.stage) ?? [];
    list.push(instance);
    byStage.set(instance.stage, list);
  }
  const ids = new Set(instances.map((i) => i.id));
  const raws = new Map<string, string[]>();
  for (const name of stageNames) {
    const stage = (source.data as RawSpec).stages[name];
    const after = (stage.foreach !== undefined ? stage.do?.after : stage.after) ?? [];
    raws.set(name, Array.isArray(after) ? after : [after]);
  }
  for (const instance of instances) {
    const list = raws.get(instance.stage) ?? [];
    list.forEach((target, index) => {
      const matched = byStage.get(target) ?? (ids.has(target) ? [instances.find((i) => i.id === target)!] : []);
      if (matched.length === 0) {
        throw new UserError(`after: "${target}" is not a stage (stages: ${stageNames.join(', ')})`, instance.fieldLocation('after', index));
      }
      instance.after.push(...matched.map((m) => m.id));
    });
  }
}

/** `${...}` inside a built-in's `with:` options, at any depth; a lone `${x}` keeps x's type. */

/** DVC's warning when params.yaml or vars define `item`/`key`, which a foreach/matrix stage's entries replace. */
function shadowedEntryNames(stages: Record<string, RawStage>, params: Record<string, unknown>): string[] {
  const names = ['item', 'key'].filter((name) => name in params);
  if (!names.length) return [];
  const where = names.length === 2 ? 'item and key are' : `${names[0]} is`;
  return Object.entries(stages)
    .filter(([, stage]) => stage.foreach !== undefined || stage.matrix !== undefined)
    .map(([name]) => `${where} already specified, will be overwritten for stages generated from '${name}'`);
}
