import path from 'node:path';
import { UserError, type Where } from '../../errors.js';
import { getParam, isPlainObject, type ParamsLoader, type ParamTree } from '../params.js';

/** One `vars:` entry: a params file (`file`, `file:key1,key2`) or values written inline. */
export type VarsEntry = string | Record<string, unknown>;

/**
 * The values `${...}` reads in a dvc.yaml, with DVC's rules (dvc.org, "vars"): params.yaml first,
 * then each `vars:` entry in order, merged; a value defined twice is an error, not an override.
 * It remembers which file every value came from, because DVC makes the values a stage reads from
 * a params file (never inline vars) params of that stage.
 */
export class DvcContext {
  private constructor(
    readonly tree: ParamTree,
    /** Dotted key of each merged-in subtree or leaf -> its file (undefined: inline). */
    private readonly origins: Map<string, string | undefined>,
    /** Files loaded so far: null when whole, else the keys taken (DVC's `imports`). */
    private readonly imports: Map<string, string[] | null>,
  ) {}

  static empty(): DvcContext {
    return new DvcContext({}, new Map(), new Map());
  }

  /** This context with `values` from `file` (undefined: written inline; `keys`: the ones picked, null for all) merged in. */
  with(values: ParamTree, file: string | undefined, where: Where, keys: string[] | null = null): DvcContext {
    const origins = new Map(this.origins);
    const tree = merge(this.tree, values, '', file, origins, where);
    const imports = new Map(this.imports);
    if (file !== undefined) imports.set(file, keys === null ? null : [...(imports.get(file) ?? []), ...keys]);
    return new DvcContext(tree, origins, imports);
  }

  /**
   * DVC's rule for a file loaded again: the whole file again is a no-op (params.yaml in `vars`
   * too); keys of a file already loaded whole, the whole of one loaded in part, or the same keys
   * twice are errors, with DVC's words.
   */
  private loadedAgain(rel: string, keys: string[] | undefined, where: Where): boolean {
    if (!this.imports.has(rel)) return false;
    const prior = this.imports.get(rel)!;
    if (keys === undefined && prior === null) return true;
    if (keys === undefined) throw new UserError(`vars: cannot load '${rel}' as it's partially loaded already`, where);
    if (prior === null) throw new UserError(`vars: cannot partially load '${rel}' as it's already loaded`, where);
    const again = keys.filter((k) => prior.includes(k));
    if (again.length) throw new UserError(`vars: cannot load '${rel}' as some of its keys (${again.join(', ')}) are already loaded`, where);
    return false;
  }

  /** This context with a `vars:` list merged in; files are relative to `base` (the stage's wdir). */
  withVars(entries: VarsEntry[], base: string, loader: ParamsLoader, where: (index: number) => Where, files: Set<string>, reserved: readonly string[] = []): DvcContext {
    let context: DvcContext = this;
    const checkReserved = (values: ParamTree, index: number) => {
      const taken = reserved.filter((name) => name in values);
      if (taken.length) throw new UserError(`vars: attempted to modify reserved ${taken.map((t) => `'${t}'`).join(', ')} in vars (a foreach/matrix stage's ${reserved.join(' and ')} are its entries)`, where(index));
    };
    entries.forEach((entry, index) => {
      if (typeof entry !== 'string') {
        const interpolated = firstInterpolation(entry);
        if (interpolated) throw new UserError(`vars: interpolating is not allowed in vars (${interpolated})`, where(index));
        checkReserved(entry, index);
        context = context.with(entry, undefined, where(index));
        return;
      }
      if (/\$\{/.test(entry)) throw new UserError(`vars: interpolating is not allowed in vars (${entry})`, where(index));
      const [file, keyList] = splitVarsFile(entry);
      const rel = path.posix.normalize(path.posix.join(base, file));
      if (context.loadedAgain(rel, keyList, where(index))) return;
      let values: ParamTree;
      try {
        values = loader.load(rel).values;
      } catch (error) {
        if (error instanceof UserError && error.message === 'file not found') throw new UserError(`vars: '${rel}' does not exist`, where(index));
        throw error;
      }
      files.add(rel);
      if (keyList !== undefined) {
        const picked: ParamTree = {};
        for (const key of keyList) {
          const hit = getParam(values, key);
          if (!hit.found) throw new UserError(`vars: "${key}" is not defined in ${rel} (it has: ${Object.keys(values).join(', ') || 'nothing'})`, where(index));
          picked[key] = hit.value;
        }
        values = picked;
      }
      checkReserved(values, index);
      context = context.with(values, rel, where(index), keyList ?? null);
    });
    return context;
  }

  /**
   * The params a stage takes on by reading `exprs` (dotted names): every leaf under each one that
   * came from a file, as `key` for params.yaml and `file:key` for other files.
   */
  tracked(exprs: Iterable<string>, defaultFile: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const expr of exprs) {
      const hit = getParam(this.tree, expr);
      if (!hit.found) continue;
      for (const [key, value] of leaves(hit.value, expr)) {
        const file = this.originOf(key);
        if (file === undefined) continue;
        out[file === defaultFile ? key : `${file}:${key}`] = value;
      }
    }
    return out;
  }

  private originOf(key: string): string | undefined {
    for (let at = key; ; at = at.slice(0, at.lastIndexOf('.'))) {
      if (this.origins.has(at)) return this.origins.get(at);
      if (!at.includes('.')) return undefined;
    }
  }
}

/** The first `key: value` whose string holds `${`, as `key: value`; undefined when none does. */
function firstInterpolation(value: unknown, at = ''): string | undefined {
  if (typeof value === 'string') return /\$\{/.test(value) ? `${at}: ${value}` : undefined;
  if (Array.isArray(value)) return value.map((v, i) => firstInterpolation(v, `${at}[${i}]`)).find(Boolean);
  if (isPlainObject(value)) return Object.entries(value).map(([k, v]) => firstInterpolation(v, at ? `${at}.${k}` : k)).find(Boolean);
  return undefined;
}

function splitVarsFile(entry: string): [string, string[] | undefined] {
  // `params.json:clean,feats`; a Windows drive letter is not a concern in a POSIX-only tool.
  const colon = entry.lastIndexOf(':');
  if (colon <= 0) return [entry, undefined];
  return [entry.slice(0, colon), entry.slice(colon + 1).split(',').map((k) => k.trim()).filter(Boolean)];
}

function merge(base: ParamTree, over: ParamTree, prefix: string, file: string | undefined, origins: Map<string, string | undefined>, where: Where): ParamTree {
  const out: ParamTree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const dotted = prefix ? `${prefix}.${key}` : key;
    const prior = out[key];
    if (prior === undefined) {
      out[key] = value;
      origins.set(dotted, file);
    } else if (isPlainObject(prior) && isPlainObject(value)) {
      out[key] = merge(prior, value, dotted, file, origins, where);
    } else {
      throw new UserError(`vars: "${dotted}" is already defined${describeOrigin(origins, dotted)}; DVC does not let vars redefine a value (rename one of them)`, where);
    }
  }
  return out;
}

function describeOrigin(origins: Map<string, string | undefined>, dotted: string): string {
  for (let at = dotted; ; at = at.slice(0, at.lastIndexOf('.'))) {
    if (origins.has(at)) {
      const file = origins.get(at);
      return file ? ` by ${file}` : ' inline';
    }
    if (!at.includes('.')) return '';
  }
}

function* leaves(value: unknown, prefix: string): Generator<[string, unknown]> {
  if (isPlainObject(value) && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value)) yield* leaves(child, `${prefix}.${key}`);
  } else {
    yield [prefix, value];
  }
}
