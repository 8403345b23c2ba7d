import path from 'node:path';
import { matrixGlobMatches } from './matrix-glob.js';
import { resolveBuiltin } from '../builtins.js';
import { UserError, type SourceLocation } from '../errors.js';
import { bindPorts } from './builtin-ports.js';
import { applyOverrides, checkedPath, executorOptionsOf, interpolateDeep, suggestKeys } from './expand-helpers.js';
import type { CheckedOptions } from './checked-options.js';
import type { Dialect, Entry } from './dialect.js';
import type { DvcContext, VarsEntry } from './dvc/context.js';
import { ConfigRef, dottedExpression, ENTRY_AT, expressionsIn, interpolate, interpolateString, type Scope } from './interpolate.js';
import type { OutOptions, PlotDefinition, Resources, StageInstance } from './model.js';
import { splitOutEntry, type RawOutEntry } from './out-entries.js';
import { parsePlotEntry } from './plot-entries.js';
import { installedPackage, parseNpmRef } from './npm-package.js';
import { getParam, isPlainObject, setParam, type ParamsLoader, type ParamTree } from './params.js';
import type { ParamsUse } from './params-check.js';
import type { StageDeclaration } from '../protocol/stage-protocol.js';
import type { PathSegment, YamlSource } from './yaml-source.js';
import { planSearch, trialSettings, type RawSearch, type SearchPlan } from './search/trials.js';
import { isFromAxis, knownPrefix, readDynamicList } from './dynamic-values.js';
import { rankingOf } from './search/rungs.js';
import type { DynamicSource } from './model.js';

export interface RawStage {
  desc?: string;
  meta?: unknown;
  /** A boolean, or `${...}` naming one. */
  always_changed?: boolean | string;
  frozen?: boolean | string;
  cmd?: string | string[];
  uses?: string;
  with?: Record<string, unknown>;
  /** A list for `cmd:` stages; a mapping onto declared input names for `uses:` stages. */
  deps?: string[] | Record<string, string>;
  params?: string | (string | Record<string, string[] | null>)[];
  outs?: RawOutEntry[] | Record<string, string>;
  metrics?: RawOutEntry[];
  plots?: RawOutEntry[];
  /** dvc.yaml: values for `${...}`, and the folder the command runs in. */
  vars?: VarsEntry[];
  wdir?: string;
  after?: string | string[];
  /** Param values over the stage's params, per instance (`{ model.width: "${width}" }`). */
  set?: Record<string, unknown>;
  /** Trials as instances: a base config, a space, a method (grid, random, sobol). */
  search?: RawSearch;
  resources?: Partial<Resources>;
  executor?: string;
  env?: Record<string, string | number | boolean>;
  /** A list, a glob of config files, `${...}` naming a list, or `{ from: <file> }` an upstream stage writes. */
  matrix?: Record<string, unknown[] | string | { from: string; at?: string }>;
  foreach?: unknown[] | Record<string, unknown> | string;
  do?: RawStage;
}


export { applyOverrides, checkedPath } from './expand-helpers.js';

/** What every stage of one spec expands against. */
export interface SpecContext {
  source: YamlSource;
  /** Absolute project root. */
  dir: string;
  /** The spec's folder relative to the root ('' when it is the root): where commands run and paths start. */
  base: string;
  loader: ParamsLoader;
  /** The global params (for a dvc.yaml: params.yaml and the top-level vars). */
  params: ParamTree;
  overrides: [string, unknown][];
  dialect: Dialect;
  /** dvc.yaml: where each value of `params` came from, for stage vars and tracked params. */
  dvc?: { context: DvcContext; paramsFile: string };
  checkedOptions?: CheckedOptions;
  /** The files `params` merged from, in merge order (where a global param was written). */
  globalFiles: string[];
  /** The top-level `strict_params:` (default true): an unknown key in a built-in's params is an error. */
  strictParams: boolean;
}

/** Expands one stage of a spec into its instances (one, or one per matrix/foreach entry). */
export class StageExpander {
  readonly files = new Set<string>();
  readonly globs: { pattern: string; matches: string[] }[] = [];
  /** Each `uses:` instance's params, checked against its built-in's schema once the whole spec is expanded. */
  readonly paramsUses: ParamsUse[] = [];
  private readonly body: RawStage;
  private readonly bodyPath: PathSegment[];

  private readonly source: YamlSource;
  private params: ParamTree;
  /** Where the command runs and relative paths start: the spec's folder, then DVC's wdir (per instance when it has `${...}`). */
  private cwd: string;
  /** The stage's `wdir:` when it interpolates (`model-${item}`), resolved for each instance. */
  private readonly wdirTemplate?: string;
  /** Its vars name files and its wdir interpolates: they are read per instance, from its wdir. */
  private readonly varsPerInstance: boolean;
  private dvc?: { context: DvcContext; paramsFile: string };
  private readonly search?: SearchPlan;
  /** Param values the engine sets for the instance being made (a rung's budget). */
  private extraSet: Record<string, unknown> = {};
  /** `from:` files the current entries were read from. */
  private dynamic: DynamicSource[] = [];

  constructor(
    private readonly name: string,
    private readonly stage: RawStage,
    private readonly spec: SpecContext,
  ) {
    const source = spec.source;
    this.source = source;
    if (stage.foreach !== undefined) {
      if (!stage.do) throw new UserError(`stage "${name}" has foreach but no do: block`, () => this.at([], true));
      if (stage.matrix) throw new UserError(`stage "${name}" has both foreach and matrix; use one`, () => this.at(['matrix'], true));
      this.body = stage.do;
      this.bodyPath = ['stages', name, 'do'];
      if (stage.do.matrix || stage.do.foreach || stage.do.do) {
        throw new UserError('a do: block cannot nest matrix/foreach', () => source.locate(this.bodyPath));
      }
    } else {
      this.body = stage;
      this.bodyPath = ['stages', name];
    }
    if (!this.body.cmd && !this.body.uses) {
      throw new UserError(`stage "${name}" needs cmd: (a shell command) or uses: (a built-in stage)`, () => this.at([], true));
    }
    if (this.body.cmd && this.body.uses) {
      throw new UserError(`stage "${name}" has both cmd: and uses:; a stage is one or the other`, () => this.at(['uses'], true));
    }
    if (stage.search !== undefined) {
      if (stage.foreach !== undefined) throw new UserError(`stage "${name}" has both foreach and search; a search's trials are its instances (add matrix: for folds)`, () => this.at(['search'], true));
      if (stage.params !== undefined) throw new UserError(`stage "${name}": search.base names the config its trials start from; leave params: out`, () => this.at(['params'], true));
      if (stage.matrix && 'trial' in stage.matrix) throw new UserError('matrix key `trial` is the search\'s own (${trial.name}); name yours another way', () => this.at(['matrix', 'trial'], true));
      this.search = planSearch(name, stage.search, (at, key) => this.at(at, key));
      if (this.search.rungs && stage.matrix && 'rung' in stage.matrix) throw new UserError('matrix key `rung` is the search\'s own (${rung}); name yours another way', () => this.at(['matrix', 'rung'], true));
    }
    const wdir = this.body.wdir ?? stage.wdir;
    if (wdir !== undefined && wdir.includes('${')) this.wdirTemplate = wdir;
    this.cwd = this.folderOf(this.wdirTemplate === undefined ? wdir : undefined);
    this.params = spec.params;
    // With an interpolated wdir, the stage's vars files are read from each instance's wdir (instance()).
    this.varsPerInstance = this.wdirTemplate !== undefined && [...(stage.vars ?? []), ...(stage.do?.vars ?? [])].some((entry) => typeof entry === 'string');
    if (spec.dvc) this.useStageVars(this.varsPerInstance ? undefined : this.cwd);
  }

  /** The dvc.yaml context this stage's `${...}` read: the spec's, then the stage's own vars (relative to `cwd`; none when undefined). */
  private useStageVars(cwd: string | undefined): void {
    const { stage, name, source, spec } = this;
    let context = spec.dvc!.context;
    if (cwd !== undefined) {
      for (const [vars, at] of [[stage.vars, ['stages', name, 'vars']], [stage.do?.vars, [...this.bodyPath, 'vars']]] as const) {
        if (vars) context = context.withVars(vars, cwd, spec.loader, (index) => () => source.locate([...at, index]), this.files, stage.foreach !== undefined || stage.matrix ? ['item', 'key'] : []);
      }
    }
    this.dvc = { context, paramsFile: spec.dvc!.paramsFile };
    this.params = context.tree;
  }

  /** The spec's folder, then `wdir` within it; refused when it leaves the repository. */
  private folderOf(wdir: string | undefined): string {
    const cwd = wdir === undefined ? this.spec.base : path.posix.normalize(path.posix.join(this.spec.base, wdir)).replace(/^\.$/, '');
    if (cwd === '..' || cwd.startsWith('../')) throw new UserError(`wdir: ${wdir} leaves the repository`, () => this.at(['wdir']));
    return cwd;
  }

  private at(sub: PathSegment[], key = false): SourceLocation {
    return this.source.locate(['stages', this.name, ...sub], key);
  }

  private field(sub: PathSegment[]): SourceLocation {
    return this.source.locate([...this.bodyPath, ...sub]);
  }

  expand(): StageInstance[] {
    if (this.search?.rungs) return this.expandRungs();
    const entries = this.entries();
    if ('pending' in entries) return [this.standIn(`${this.name}@pending`, {}, entries.pending)];
    const instances = entries.map(({ suffix, vars }) => this.withDynamic(this.instance(suffix ? `${this.name}@${suffix}` : this.name, vars)));
    const ranked = this.search && this.plainRankingFolder();
    return ranked ? [...instances, this.selectInstance(0, this.search!.trials, ranked, undefined)] : instances;
  }

  /**
   * A plain search (grid, random, sobol) is ranked too, as one rung, when its trials write
   * metrics.json (a built-in trainer's, or `search.metric` says so) each in a folder of its
   * own (`outputs/runs/tune/\${trial.name}/fold\${fold}`): the report's sweep section reads the ranking.
   */
  private plainRankingFolder(): string | undefined {
    const declared = this.body.uses !== undefined && !this.body.uses.includes('${') && resolveBuiltin(this.body.uses, () => this.field(['uses'])).declaration.metrics?.some((m) => m.file === 'metrics.json');
    if (!declared && this.stage.search?.metric === undefined) return undefined;
    const layout = /^((?:[^$]|\$(?!\{))*?)\$\{\s*trial\.name\s*\}(\/|$)/;
    const templates = this.outTemplates();
    const head = templates.length ? layout.exec(templates[0])?.[1] : undefined;
    if (head === undefined || head.includes('${')) {
      if (this.stage.search?.metric !== undefined) throw new UserError(`search.metric ranks trials that write metrics.json each in a folder of their own: outs ".../\${trial.name}/..." (got ${JSON.stringify(templates[0] ?? '')})`, () => this.field(['outs']));
      return undefined;
    }
    return path.posix.join(this.cwd, head.replace(/\/+$/, ''));
  }

  /**
   * An instance listed from `from:` files remembers what they said. It comes after their writer
   * (the graph orders it), but their bytes are not in its key: a list that grows leaves the
   * instances it already had as they were.
   */
  private withDynamic(instance: StageInstance): StageInstance {
    if (this.dynamic.length) instance.dynamic = [...this.dynamic];
    return instance;
  }

  /**
   * What stands for instances whose values a `from:` file will list, before it exists: it
   * depends on the file, runs nothing, and holds back whatever reads the folders they will write.
   */
  private standIn(id: string, vars: Scope, from: string, alsoWrites: string[] = []): StageInstance {
    const templates = [...this.outTemplates().map((t) => knownPrefix(interpolateKnown(t, vars))), ...alsoWrites];
    const instance: StageInstance = {
      id,
      stage: this.name,
      cmd: [],
      commandWith: () => [],
      deps: [from],
      outs: [],
      metrics: [],
      plots: [],
      outOptions: {},
      plotDefinitions: [],
      cwd: this.cwd,
      params: {},
      paramFiles: [],
      after: [],
      resources: { gpu: 0 },
      executorOptions: {},
      env: {},
      pending: { from, under: [...templates.slice(0, templates.length - alsoWrites.length).filter((t) => t !== '').map((t) => path.posix.join(this.cwd, t)), ...alsoWrites] },
      fieldLocation: () => this.at([], true),
    } as Omit<StageInstance, 'location'> as StageInstance;
    const at = () => this.at([], true);
    Object.defineProperty(instance, 'location', { get: at, enumerable: true });
    return instance;
  }

  /** The stage's out paths as written (`outputs/runs/${exp.name}/fold${fold}`). */
  private outTemplates(): string[] {
    const outs = this.body.outs;
    const list = outs === undefined ? [] : Array.isArray(outs) ? outs.map((entry) => splitOutEntry(entry, () => this.field(['outs'])).raw) : Object.values(outs);
    return [...list, ...[...(this.body.metrics ?? []), ...(this.body.plots ?? [])].map((entry) => splitOutEntry(entry, () => this.field(['outs'])).raw)];
  }

  /**
   * A search in rungs: rung 0 trains every trial; a `select` instance per rung ranks its trials
   * by the metric and writes who goes on; rung r + 1 is listed from that file once it is
   * written, and until then a stand-in holds its place. `refit` trains the winner again.
   */
  private expandRungs(): StageInstance[] {
    const search = this.search!;
    const rungs = search.rungs!;
    const byName = new Map(search.trials.map((t) => [t.name, t]));
    const out: StageInstance[] = [];
    const axes = (matrix: Record<string, unknown>): [string, unknown[]][] =>
      Object.entries(matrix).map(([key, spec]) => {
        if (isFromAxis(spec)) throw new UserError(`matrix ${key}: a search's rungs already come from its own selections; a from: axis cannot join them`, () => this.at(['matrix', key]));
        return [key, typeof spec !== 'string' ? (spec as unknown[]).map((v) => interpolateDeep(v, [this.params], () => this.at(['matrix', key]))) : spec.trimStart().startsWith('${') ? this.listParam(spec, ['matrix', key]) : this.globConfigs(key, spec)];
      });
    const folder = this.rungFolder();
    const matrixAxes = axes(this.stage.matrix ?? {});
    const rung = (label: number | 'best', trials: ConfigRef[], axesOf: [string, unknown[]][], budget: number | undefined) => {
      let combos: [string, unknown, number][][] = trials.map((trial, index) => [['rung', label, 0], ['trial', trial, index]]);
      for (const [key, values] of axesOf) combos = combos.flatMap((combo) => values.map((value, index) => [...combo, [key, value, index] as [string, unknown, number]]));
      this.extraSet = budget === undefined || rungs.param === undefined ? {} : { [rungs.param]: budget };
      for (const { suffix, vars } of combos.map((combo) => this.spec.dialect.matrixEntry(combo))) out.push(this.withDynamic(this.instance(`${this.name}@${suffix}`, vars)));
      this.extraSet = {};
      out.push(this.selectInstance(label, trials, folder(label), budget));
    };
    this.dynamic = [];
    let trials = search.trials;
    const last = rungs.counts.length - 1;
    for (let r = 0; r <= last; r++) {
      if (r > 0) {
        const chosen = this.selection(`rung${r - 1}.json`, byName);
        if (!chosen) return [...out, this.standIn(`${this.name}@rung=${r}`, { rung: r }, this.selectionFile(`rung${r - 1}.json`), this.laterSelections(r))];
        trials = chosen;
      }
      rung(r, trials, matrixAxes, rungs.budgets[r]);
    }
    if (rungs.refit) {
      const chosen = this.selection(`rung${last}.json`, byName);
      if (!chosen) return [...out, this.standIn(`${this.name}@rung=best`, { rung: 'best' }, this.selectionFile(`rung${last}.json`), this.laterSelections(last + 1))];
      // The refit's axes replace the matrix's of the same name (more folds); others stay.
      rung('best', chosen.slice(0, 1), [...matrixAxes.filter(([key]) => !(key in rungs.refit!)), ...axes(rungs.refit)], rungs.budgets[last]);
    }
    this.dynamic = [];
    return out;
  }

  /**
   * The selections of rung `from` on (and the refit's): a stand-in will write them too, so what
   * reads one (a `from:` axis over best.json) waits for it.
   */
  private laterSelections(from: number): string[] {
    const rungs = this.search!.rungs!;
    const names = Array.from({ length: Math.max(0, rungs.counts.length - from) }, (_, i) => `rung${from + i}.json`);
    return [...names, ...(rungs.refit ? ['best.json'] : [])].map((name) => this.selectionFile(name));
  }

  /** A selection's path from the project root (`search.results` is relative to the stage's folder, as its outs are). */
  private selectionFile(name: string): string {
    return path.posix.join(this.cwd, (this.search!.rungs ?? rankingOf(this.name, this.stage.search!)).results, name);
  }

  /** The trials a rung's selection promotes, or undefined until it is written. */
  private selection(name: string, byName: Map<string, ConfigRef>): ConfigRef[] | undefined {
    const file = this.selectionFile(name);
    this.files.add(file);
    const read = readDynamicList(this.spec.dir, file, 'promoted', () => this.at(['search']));
    if (!read) return undefined;
    this.dynamic = [read.source];
    return read.values.map((value) => {
      const trial = byName.get(String(value));
      if (!trial) throw new UserError(`${file} promotes ${JSON.stringify(value)}, which is not one of this search's trials (it was written for another space or seed: delete it and run again)`, () => this.at(['search']));
      return trial;
    });
  }

  /**
   * Where a rung's trials are written: each out must name \${rung} in one folder and
   * \${trial.name} in the next (`outputs/runs/tune/\${rung}/\${trial.name}/fold\${fold}`), so one
   * folder per rung holds one folder per trial.
   */
  private rungFolder(): (rung: number | 'best') => string {
    const templates = this.outTemplates();
    const layout = /^((?:[^$]|\$(?!\{))*?)([^/]*\$\{\s*rung\s*\}[^/]*)\/\$\{\s*trial\.name\s*\}(\/|$)/;
    const bad = templates.find((t) => !layout.test(t));
    if (templates.length === 0 || bad !== undefined) {
      throw new UserError(`outs of a search in rungs (halving, refit) put each rung's trials in a folder of their own: ".../\${rung}/\${trial.name}/..." (got ${JSON.stringify(bad ?? '')})`, () => this.field(['outs']));
    }
    const [, head, segment] = layout.exec(templates[0])!;
    return (rung) => path.posix.join(this.cwd, interpolateString(head + segment, [{ rung }, this.params], () => this.field(['outs'])));
  }

  /** The built-in `select` over one rung's trials: their metric per fold, the ranking, who goes on. */
  private selectInstance(label: number | 'best', trials: ConfigRef[], runs: string, budget: number | undefined): StageInstance {
    const rungs = this.search!.rungs;
    const ranking = rungs ?? rankingOf(this.name, this.stage.search!);
    const keep = label === 'best' || !rungs ? 1 : label + 1 < rungs.counts.length ? rungs.counts[label + 1] : 1;
    const options: Record<string, unknown> = {
      rung: String(label),
      metric: ranking.metric,
      mode: ranking.mode,
      keep,
      trials: Object.fromEntries(trials.map((t) => [t.name, trialSettings(t, this.stage.search!)])),
      ...(budget !== undefined && rungs?.param ? { budget: { param: rungs.param, value: budget } } : {}),
    };
    const raw: RawStage = { uses: 'select', matrix: { rung: [String(label)] }, with: options, deps: { runs }, outs: { selected: path.posix.relative(this.cwd, this.selectionFile(label === 'best' ? 'best.json' : `rung${label}.json`)) } };
    const select = new StageExpander(`${this.name}.select`, raw, { ...this.spec, source: this.source });
    const [instance] = select.expand();
    if (this.dynamic.length && label !== 0) return this.withDynamic(instance);
    return instance;
  }

  private entries(): Entry[] | { pending: string } {
    const { matrix, foreach } = this.stage;
    const { dialect } = this.spec;
    if (matrix || this.search) {
      let combos: [string, unknown, number][][] = this.search ? this.search.trials.map((trial, index) => [['trial', trial, index]]) : [[]];
      this.dynamic = [];
      let pending: string | undefined;
      for (const [key, spec] of Object.entries(matrix ?? {})) {
        let values: unknown[];
        if (isFromAxis(spec)) {
          const file = checkedPath(spec.from, () => this.at(['matrix', key]), true, this.cwd);
          this.files.add(file);
          const read = readDynamicList(this.spec.dir, file, spec.at, () => this.at(['matrix', key]));
          if (!read) {
            pending ??= file;
            continue;
          }
          if (read.values.length === 0) throw new UserError(`matrix ${key}: ${file} lists no values`, () => this.at(['matrix', key]));
          this.dynamic.push(read.source);
          values = read.values;
        } else {
          // A value may itself read the params (`[${base_lr}, 0.1]`), as DVC resolves it.
          values = typeof spec !== 'string' ? spec.map((v) => interpolateDeep(v, [this.params], () => this.at(['matrix', key]))) : spec.trimStart().startsWith('${') ? this.listParam(spec, ['matrix', key]) : this.globConfigs(key, spec);
        }
        combos = combos.flatMap((combo) => values.map((value, index) => [...combo, [key, value, index] as [string, unknown, number]]));
      }
      if (pending !== undefined) return { pending };
      return combos.map((combo) => dialect.matrixEntry(combo));
    }
    if (foreach !== undefined) {
      const items = typeof foreach === 'string' ? interpolate(foreach, [this.params], () => this.at(['foreach'])) : interpolateDeep(foreach, [this.params], () => this.at(['foreach']));
      if (Array.isArray(items)) return dialect.listEntries(items);
      if (isPlainObject(items)) return Object.entries(items).map(([key, item]) => ({ suffix: key, vars: { key, item } }));
      throw new UserError('foreach must be a list, a mapping, or ${...} naming one', () => this.at(['foreach']));
    }
    return [{ suffix: '', vars: {} }];
  }

  /** A matrix value written as `${key}` naming a list in the params. */
  private listParam(text: string, at: PathSegment[]): unknown[] {
    const value = interpolate(text, [this.params], () => this.at(at));
    if (!Array.isArray(value) || value.length === 0) throw new UserError(`${text} must name a non-empty list (got ${JSON.stringify(value)})`, () => this.at(at));
    return value;
  }

  private globConfigs(key: string, pattern: string): ConfigRef[] {
    const where = () => this.at(['matrix', key]);
    const files = matrixGlobMatches(pattern, this.spec.dir);
    this.globs.push({ pattern, matches: files });
    if (files.length === 0) {
      throw new UserError(`matrix ${key}: the glob "${pattern}" matches no files`, where);
    }
    return files.map((file) => {
      const resolved = this.spec.loader.load(file);
      resolved.files.forEach((f) => this.files.add(f));
      const config = applyOverrides(resolved.values, this.spec.overrides);
      const name = path.posix.basename(file).replace(/\.(ya?ml|json)$/i, '');
      return new ConfigRef(name, file, config, resolved.files);
    });
  }

  private instance(id: string, vars: Scope): StageInstance {
    const body = this.body;
    // DVC resolves wdir with the instance's own values (its item), before anything relative to it, its vars files included.
    if (this.wdirTemplate !== undefined) this.cwd = this.folderOf(interpolateString(this.wdirTemplate, [vars, this.params], () => this.field(['wdir'])));
    if (this.varsPerInstance) this.useStageVars(this.cwd);
    const scopes: Scope[] = [vars];
    const { params: stageParams, files: paramFiles, scope, origins } = this.resolveParams(vars);
    if (scope) scopes.push(scope);
    scopes.push(this.params);

    const pathOf = (raw: string, at: PathSegment[]) => checkedPath(interpolateString(raw, scopes, () => this.field(at)), () => this.field(at), at[0] === 'deps', this.cwd);
    const outOptions: Record<string, Partial<OutOptions>> = {};
    const plotDefinitions: PlotDefinition[] = [];
    const strings = (field: 'deps' | 'outs' | 'metrics' | 'plots'): string[] => {
      const list = body[field] ?? [];
      if (!Array.isArray(list)) {
        throw new UserError(`${field}: as a mapping names the inputs/outputs of a built-in (uses:); a cmd: stage lists its paths: ${field}: [a, b]`, () => this.field([field]));
      }
      return list.map((entry, index) => {
        const { raw, options } = splitOutEntry(entry, () => this.field([field, index]));
        const at = pathOf(raw, [field, index]);
        if (Object.keys(options).length) outOptions[at] = { ...outOptions[at], ...options };
        if (field === 'plots') {
          const where = () => this.field([field, index]);
          const written = interpolateString(raw, scopes, where);
          plotDefinitions.push(parsePlotEntry(typeof entry === 'string' ? written : { [written]: interpolateDeep(Object.values(entry)[0], scopes, where) }, this.cwd, where));
        }
        return at;
      });
    };
    const uses = body.uses !== undefined ? interpolateString(body.uses, scopes, () => this.field(['uses'])) : undefined;
    const written = body.with !== undefined ? (interpolateDeep(body.with, scopes, () => this.field(['with'])) as Record<string, unknown>) : undefined;
    const { options, strict } = this.strictParamsOf(written);
    const declaration = uses === undefined ? undefined : resolveBuiltin(uses, () => this.field(['uses']), options).declaration;
    const ports =
      declaration === undefined
        ? undefined
        : bindPorts({
            declaration,
            deps: body.deps,
            outs: body.outs,
            options,
            path: (raw, field, key) => pathOf(raw, [field, key]),
            locate: (at, key) => this.source.locate([...this.bodyPath, ...at], key),
            checked: this.spec.checkedOptions,
          });

    const commands = body.cmd === undefined ? [] : Array.isArray(body.cmd) ? body.cmd : [body.cmd];
    const render = (within: Scope[]) =>
      commands.map((text, index) => String(interpolate(text, within, () => this.field(Array.isArray(body.cmd) ? ['cmd', index] : ['cmd']), this.spec.dialect.commandText)));
    const cmd = render(scopes);
    const commandWith = (params: Record<string, unknown>) => {
      const shifted = scopes.map((scope, i) =>
        i === 0 ? scope : Object.entries(params).reduce((acc, [key, value]) => (getParam(acc, key).found ? setParam(acc, key, value) : acc), scope),
      );
      try {
        return render(shifted);
      } catch {
        return [];
      }
    };
    const outs = ports ? Object.values(ports.outputs) : strings('outs');
    const metrics = strings('metrics');
    const plots = strings('plots');
    for (const extra of [...metrics, ...plots]) {
      if (!outs.some((out) => extra === out || extra.startsWith(out + '/')) && !outs.includes(extra)) outs.push(extra);
    }
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(body.env ?? {})) {
      env[key] = interpolateString(String(value), scopes, () => this.field(['env', key]));
    }
    const resources: Resources = { gpu: body.resources?.gpu ?? 0 };
    if (body.resources?.cpu !== undefined) resources.cpu = body.resources.cpu;
    if (body.resources?.memory !== undefined) resources.memory = body.resources.memory;
    if (body.resources?.time !== undefined) resources.time = body.resources.time;

    const paramDeps = declaration ? [...this.paramPathDeps(declaration, stageParams, paramFiles), ...this.optionPathDeps(declaration, options)] : [];
    const bodyPath = this.bodyPath;
    const instanceStage = this.name;
    const source = this.source;
    const instance: StageInstance = {
      id,
      stage: this.name,
      cmd,
      commandWith,
      deps: ports ? [...Object.values(ports.inputs), ...paramDeps.map((dep) => dep.path)] : strings('deps'),
      outs,
      metrics,
      plots,
      outOptions,
      plotDefinitions,
      cwd: this.cwd,
      params: this.dvc ? { ...this.dvc.context.tracked(this.readsOf(vars), this.dvc.paramsFile), ...stageParams } : stageParams,
      paramFiles,
      after: [],
      resources,
      executorOptions: executorOptionsOf(body),
      env,
      get location() {
        return source.locate(['stages', instanceStage], true);
      },
      fieldLocation: (field, index) => {
        // A file a param names (model.weights) is shown where the param was set.
        const paramDep = ports && field === 'deps' && index !== undefined ? paramDeps[index - Object.keys(ports.inputs).length] : undefined;
        if (paramDep) return paramDep.where();
        // A built-in's deps/outs are mappings: the n-th path is the n-th bound name.
        const named = ports && (field === 'deps' ? ports.inputs : field === 'outs' ? ports.outputs : undefined);
        const at = index === undefined ? [] : [named ? Object.keys(named)[index] ?? index : index];
        return source.locate([...bodyPath, field, ...at]);
      },
    };
    if (declaration) {
      this.paramsUses.push({ id, declaration, params: nestedParams(stageParams), files: origins, strict, where: () => this.field(body.params === undefined ? [] : ['params']) });
    }
    if (uses !== undefined) instance.uses = uses;
    if (options !== undefined) instance.with = options;
    if (ports) instance.ports = ports;
    if (body.executor !== undefined) instance.executor = body.executor;
    if (this.flag('always_changed', scopes)) instance.alwaysChanged = true;
    if (this.flag('frozen', scopes)) instance.frozen = true;
    return instance;
  }

  /** `frozen:` / `always_changed:` as written, or the boolean a `${...}` names (DVC's `frozen: ${freeze}`). */
  private flag(field: 'frozen' | 'always_changed', scopes: Scope[]): boolean {
    const raw = this.body[field];
    if (typeof raw !== 'string') return Boolean(raw);
    const value = interpolate(raw, scopes, () => this.field([field]));
    if (typeof value !== 'boolean') throw new UserError(`${field}: ${raw} is ${JSON.stringify(value)}; it must name true or false`, () => this.field([field]));
    return value;
  }

  /** Files a built-in's params name (`model.weights`): deps of the instance, so their content is in its key. */
  private paramPathDeps(declaration: StageDeclaration, params: Record<string, unknown>, files: string[]): { path: string; where: () => SourceLocation }[] {
    const tree = nestedParams(params);
    return Object.keys(declaration.paramPaths ?? {}).flatMap((key) => {
      const { found, value } = getParam(tree, key);
      if (!found || typeof value !== 'string') return [];
      const where = () => this.spec.loader.locateKey(files, key.split('.'), false) ?? this.field(['params']);
      if (value.startsWith('npm:')) return [{ path: this.npmPackageDep(key, value, where), where }];
      return [{ path: checkedPath(value, where), where }];
    });
  }

  /** Files a built-in's options name (`with: { script: train.py }`): deps of the instance, like paramPathDeps. */
  private optionPathDeps(declaration: StageDeclaration, options: Record<string, unknown> | undefined): { path: string; where: () => SourceLocation }[] {
    return Object.keys(declaration.optionPaths ?? {}).flatMap((key) => {
      const value = options?.[key];
      if (typeof value !== 'string') return [];
      const where = () => this.field(['with', key]);
      return [{ path: checkedPath(value, where, false, this.cwd), where }];
    });
  }

  /**
   * `npm:<package>/<model>`: the installed package's package.json is the dep, so its version
   * (an npm version's files never change) is in the key; which models a package has is the
   * built-in's to check.
   */
  private npmPackageDep(key: string, value: string, where: () => SourceLocation): string {
    const ref = parseNpmRef(value);
    if (!ref) throw new UserError(`${key}: ${JSON.stringify(value)} is not npm:<package>/<model> (e.g. npm:nsfwjs/mobilenet_v2)`, where);
    const dir = installedPackage(this.spec.dir, ref.package);
    if (!dir) throw new UserError(`${key}: ${value}: the package ${ref.package} is not installed in ${this.spec.dir} or a folder above it (npm install ${ref.package})`, where);
    return checkedPath(path.relative(this.spec.dir, path.join(dir, 'package.json')), where, true);
  }

  /** The names the stage's `${...}` read from the params (not from its foreach/matrix entry): what DVC tracks. */
  private readsOf(vars: Scope): string[] {
    const reads: string[] = [];
    // `foreach: ${models}`: `${item.thresh}` reads models.<this entry>.thresh, which DVC tracks in the file it came from.
    const foreachPath = typeof this.stage.foreach === 'string' ? /^\$\{\s*([^}]+?)\s*\}$/.exec(this.stage.foreach)?.[1] : undefined;
    const entry = vars[ENTRY_AT] ?? vars.key;
    const read = (expr: string): string[] => {
      const [head, ...rest] = expr.split('.');
      if (!(head in vars)) return [expr];
      if (head !== 'item' || foreachPath === undefined || entry === undefined) return [];
      return [[dottedExpression(foreachPath), String(entry), ...rest].join('.')];
    };
    const visit = (value: unknown): void => {
      if (typeof value === 'string') reads.push(...expressionsIn(value).flatMap(read));
      else if (Array.isArray(value)) value.forEach(visit);
      else if (isPlainObject(value)) Object.entries(value).forEach(([key, child]) => (visit(key), visit(child)));
    };
    visit(Object.entries(this.body).filter(([key]) => key !== 'vars'));
    return reads;
  }

  /**
   * `strict_params` in `with:` says how the engine checks the built-in's params; it is not an
   * option of the built-in, so it leaves `with:` (and the stage's key) here.
   */
  private strictParamsOf(options: Record<string, unknown> | undefined): { options: Record<string, unknown> | undefined; strict: boolean } {
    if (options === undefined || !('strict_params' in options)) return { options, strict: this.spec.strictParams };
    const { strict_params: strict, ...rest } = options;
    if (typeof strict !== 'boolean') throw new UserError(`with.strict_params must be true or false (got ${JSON.stringify(strict)})`, () => this.field(['with', 'strict_params']));
    return { options: Object.keys(rest).length ? rest : undefined, strict };
  }

  /** The stage's named params, or a matrix config when `params: ${exp}`; `origins`: the files they merged from, in merge order. */
  private resolveParams(vars: Scope): { params: Record<string, unknown>; files: string[]; scope?: Scope; origins: string[] } {
    const resolved = this.search ? this.configFile(this.search.base, ['search', 'base']) : this.paramsOfBody(vars);
    const trial = { ...(this.search ? trialSettings(vars.trial as ConfigRef, this.stage.search!) : {}), ...this.extraSet };
    const set = { ...trial, ...this.body.set };
    if (Object.keys(set).length === 0) return resolved;
    let params = resolved.params;
    for (const [key, raw] of Object.entries(set)) {
      const fromTrial = key in trial && !(key in (this.body.set ?? {}));
      const where = () => (fromTrial ? (key in this.extraSet ? this.at(['search', 'budget', 'param']) : this.at(['search', 'space', key])) : this.field(['set', key]));
      const value = fromTrial ? raw : interpolateDeep(raw, [vars, this.params], where);
      if (resolved.scope) {
        params = setParam(params, key, value);
        continue;
      }
      // Named params (`params: [train]`): a key is one of them or inside one.
      const owner = Object.keys(params).find((named) => key === named || key.startsWith(named + '.'));
      if (owner === undefined) throw new UserError(`set: ${key} is not among this stage's params (${Object.keys(params).join(', ') || 'none'}); name it in params: or set a key inside one`, where);
      params = owner === key ? { ...params, [key]: value } : { ...params, [owner]: setParam(isPlainObject(params[owner]) ? (params[owner] as ParamTree) : {}, key.slice(owner.length + 1), value) };
    }
    // -S on the command line wins over the spec's values, as it does over the files'.
    if (resolved.scope) params = applyOverrides(params, this.spec.overrides);
    // The command reads the set values too: the params' own tree comes before the global params.
    return { ...resolved, params, scope: resolved.scope ? params : nestedParams(params) };
  }

  /** A config file (with its `extends:` chain and -S) as the whole param set of the instance. */
  private configFile(file: string, at: PathSegment[]): { params: Record<string, unknown>; files: string[]; scope: Scope; origins: string[] } {
    const resolved = this.spec.loader.load(checkedPath(file, () => this.field(at), false, this.cwd));
    resolved.files.forEach((f) => this.files.add(f));
    const config = applyOverrides(resolved.values, this.spec.overrides);
    return { params: config, files: resolved.files, scope: config, origins: resolved.files };
  }

  private paramsOfBody(vars: Scope): { params: Record<string, unknown>; files: string[]; scope?: Scope; origins: string[] } {
    const spec = this.body.params;
    if (spec === undefined) return { params: {}, files: [], origins: [] };
    if (typeof spec === 'string') {
      const value = interpolate(spec, [vars, this.params], () => this.field(['params']));
      if (value instanceof ConfigRef) {
        return { params: { ...value.config }, files: value.files, scope: value.config, origins: value.files };
      }
      if (typeof value === 'string') return this.configFile(value, ['params']);
      throw new UserError('params: as a string must name a matrix config (${exp}) or a params file', () => this.field(['params']));
    }
    const out: Record<string, unknown> = {};
    const files: string[] = [];
    const origins = [...this.spec.globalFiles];
    spec.forEach((item, index) => {
      if (typeof item === 'string') {
        const key = interpolateString(item, [vars, this.params], () => this.field(['params', index]));
        const hit = getParam(this.params, key);
        if (!hit.found) {
          throw new UserError(`param "${key}" is not defined in the global params files (${suggestKeys(this.params, key)})`, () => this.field(['params', index]));
        }
        out[key] = hit.value;
        return;
      }
      for (const [file, keys] of Object.entries(item)) {
        const rel = checkedPath(file, () => this.field(['params', index]), false, this.cwd);
        const resolved = this.spec.loader.load(rel);
        const tree = applyOverrides(resolved.values, this.spec.overrides);
        files.push(...resolved.files);
        origins.push(...resolved.files);
        // DVC's `- params.yaml:` with no keys: the whole file.
        for (const key of keys ?? Object.keys(tree)) {
          const hit = getParam(tree, key);
          if (!hit.found) throw new UserError(`param "${key}" is not defined in ${rel} (${suggestKeys(tree, key)})`, () => this.field(['params', index]));
          out[this.dvc?.paramsFile === rel ? key : `${rel}:${key}`] = hit.value;
        }
      }
    });
    return { params: out, files, origins };
  }
}

/** A template with the values known so far filled in, the rest left as written. */
function interpolateKnown(template: string, vars: Scope): string {
  return template.replace(/\$\{\s*([\w.]+)\s*\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/**
 * The params as the built-in's runtime nests them (stages/runtime's nestDotted), but copying
 * where it writes into the mappings it descends: these are the instance's own params. A
 * DVC-style `file:key` names a file's key, which no built-in schema describes.
 */
function nestedParams(params: Record<string, unknown>): ParamTree {
  let tree: ParamTree = {};
  for (const [key, value] of Object.entries(params)) if (!key.includes(':')) tree = setParam(tree, key, value);
  return tree;
}
