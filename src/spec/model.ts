import type { SourceLocation } from '../errors.js';
import type { RemoteConfig } from '../remotes/remote.js';
import type { BoundPorts } from './builtin-ports.js';

export interface Resources {
  /** GPUs per instance; fractions (0.5) share a device. */
  gpu: number;
  cpu?: number;
  memory?: string | number;
  time?: string | number;
}

/** What an out may ask beyond being an out (DVC's output options); absent means the default. */
export interface OutOptions {
  /** false: hashed and locked but not stored in the cache, so never restored (DVC's cache: false). */
  cache: boolean;
  /** true: left in place when the stage runs again, for a command that updates it. */
  persist: boolean;
  /** false: the stage's runs are not pushed to remotes. */
  push: boolean;
}

/** A plot to draw (DVC's plot definition): data files with the fields to show on y, x, a template. */
export interface PlotDefinition {
  id: string;
  /** Data file (project-relative) -> fields on y; none means its last column. */
  y: Record<string, string[]>;
  /** Field on x; none means the row index. */
  x?: string;
  /** DVC's template names: linear, simple, smooth, scatter, bar_horizontal, confusion, ... */
  template: string;
  title?: string;
  x_label?: string;
  y_label?: string;
}

/** One runnable unit: a stage, or one entry of a stage's matrix/foreach. */
export interface StageInstance {
  /** `name` or `name@k=v,k=v` (matrix) or `name@item` (foreach). */
  id: string;
  /** The stage's name in pipeline.yaml. */
  stage: string;
  /** Commands after interpolation (shell-quoted values); empty for built-ins. */
  cmd: string[];
  /** The commands interpolated with some params (dotted keys) set to other values; explains changes. */
  commandWith: (params: Record<string, unknown>) => string[];
  uses?: string;
  with?: Record<string, unknown>;
  /** A built-in's named inputs and outputs (name -> path); `deps`/`outs` hold the same paths. */
  ports?: BoundPorts;
  deps: string[];
  /** Every path this instance writes: outs plus metrics/plots that no out contains. */
  outs: string[];
  metrics: string[];
  plots: string[];
  /** Its `plots:` entries as plots to draw. */
  plotDefinitions: PlotDefinition[];
  /** Options of outs that have any (by path). */
  outOptions: Record<string, Partial<OutOptions>>;
  /** Where the command runs, relative to the project root ('' for the root): DVC's wdir. */
  cwd: string;
  /** The param values this instance names; the only params in its key. */
  params: Record<string, unknown>;
  /** Files whose edits can change `params` (for watch and explanations). */
  paramFiles: string[];
  /** Instance ids that must finish first (resolved from `after:`). */
  after: string[];
  resources: Resources;
  /** DVC's always_changed: runs every time (early cutoff still spares dependents when its outs come out identical). */
  alwaysChanged?: boolean;
  /** DVC's frozen: never checked or run; what pipeline.lock records is what it has. */
  frozen?: boolean;
  /** Overrides the run's executor for this stage (a name in src/executors/registry.ts). */
  executor?: string;
  /** Per-executor option blocks (`slurm: {...}`), by executor name. */
  executorOptions: Record<string, Record<string, unknown>>;
  env: Record<string, string>;
  /**
   * The files an upstream stage writes that this instance's matrix values were read from
   * (`matrix: { trial: { from: ... } }`, a search's rungs), with their content then: when a
   * run rewrites one, the instance waits for the next round's plan.
   */
  dynamic?: DynamicSource[];
  /**
   * A stand-in for instances that cannot be listed yet (their `from:` file is not written):
   * it runs nothing, and every dep inside or around `under` (the folders its instances will
   * write) waits for it.
   */
  pending?: { from: string; under: string[] };
  location: SourceLocation;
  /** Locations of individual fields, for errors found during graph checks. */
  fieldLocation: (field: string, index?: number) => SourceLocation;
}

/** A file whose content lists some of an instance's matrix values. */
export interface DynamicSource {
  /** Project-relative. */
  file: string;
  /** sha256 of the bytes read when the spec was expanded. */
  read: string;
}

export interface Project {
  /** The default executor named in pipeline.yaml, if any. */
  executor?: string;
  /** The cache remote named in pipeline.yaml, if any. */
  remote?: RemoteConfig;
  /**
   * Absolute project root; every path pipeline records is relative to it. The spec's own folder,
   * or for a dvc.yaml its repository root (DVC's meaning: the spec may sit in a subfolder).
   */
  dir: string;
  /** The spec, relative to `dir`. */
  specFile: string;
  /** Absolute folder of the spec: pipeline.lock and .pipeline/ live here. */
  specDir: string;
  /** Metrics files named at the top level of a dvc.yaml (they feed `exp show` and `metrics diff`). */
  metrics: string[];
  /** Plots defined at the top level of a dvc.yaml. */
  plots: PlotDefinition[];
  /** Global params after `extends:` and `-S` overrides. */
  params: Record<string, unknown>;
  /** What loading found that runs anyway (an unknown param key under `strict_params: false`), one line each. */
  warnings: string[];
  /** Spec file, global params files and every config file a matrix read. */
  inputFiles: string[];
  instances: StageInstance[];
  /** Every matrix glob and what it matched: a new config file changes the graph. */
  globs: { pattern: string; matches: string[] }[];
  byId: Map<string, StageInstance>;
  stageNames: string[];
}
