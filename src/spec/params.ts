import path from 'node:path';
import { UserError, type SourceLocation } from '../errors.js';
import { YamlSource } from './yaml-source.js';

export type ParamValue = unknown;
export type ParamTree = Record<string, unknown>;

/** A params/config file after its `extends:` chain is resolved; `files` lists the whole chain. */
export interface ResolvedParams {
  values: ParamTree;
  files: string[];
}

/**
 * Loads params/config files (YAML or JSON — JSON is YAML) and resolves `extends:` chains
 * relative to each file. Parents are merged first, so the file itself wins, and a list of
 * parents merges in order. Results are memoised per file for one spec load.
 */
export class ParamsLoader {
  private readonly resolved = new Map<string, ResolvedParams>();
  /** Each file's own keys (without `extends:`) and its source, to say which file of a chain set a key. */
  private readonly own = new Map<string, { values: ParamTree; source: YamlSource }>();

  /** `read` gives a file's source by project-relative path: the disk by default, a git revision for `params diff`. */
  constructor(
    projectDir: string,
    private readonly read: (relPath: string) => YamlSource = (relPath) => YamlSource.read(path.join(projectDir, relPath), relPath),
  ) {}

  /** `relPath` is project-relative, posix. */
  load(relPath: string, chain: string[] = []): ResolvedParams {
    const cached = this.resolved.get(relPath);
    if (cached) return cached;
    if (chain.includes(relPath)) {
      throw new UserError(`extends cycle: ${[...chain, relPath].join(' -> ')}`, { file: chain[chain.length - 1] ?? relPath });
    }
    const source = this.read(relPath);
    const data = source.data ?? {};
    if (!isPlainObject(data)) {
      throw new UserError(`a params file must be a mapping of keys to values (got ${describe(data)})`, source.locate([]));
    }
    const { extends: parentsRaw, ...own } = data;
    this.own.set(relPath, { values: own, source });
    const parents = parentsRaw === undefined ? [] : Array.isArray(parentsRaw) ? parentsRaw : [parentsRaw];
    let values: ParamTree = {};
    const files: string[] = [];
    parents.forEach((parent, index) => {
      if (typeof parent !== 'string') {
        throw new UserError('extends must be a path or a list of paths', source.locate(['extends']));
      }
      const parentRel = path.posix.normalize(path.posix.join(path.posix.dirname(relPath), parent));
      let parentParams: ResolvedParams;
      try {
        parentParams = this.load(parentRel, [...chain, relPath]);
      } catch (error) {
        if (error instanceof UserError && error.message === 'file not found' && error.location?.file === parentRel) {
          const at = source.locate(Array.isArray(parentsRaw) ? ['extends', index] : ['extends']);
          throw new UserError(`extends: ${parent} not found (resolved to ${parentRel})`, at);
        }
        throw error;
      }
      values = deepMerge(values, parentParams.values);
      files.push(...parentParams.files);
    });
    values = deepMerge(values, own);
    files.push(relPath);
    const result = { values, files: [...new Set(files)] };
    this.resolved.set(relPath, result);
    return result;
  }

  /**
   * Where the value at `path` of params merged from `files` (in merge order, later wins) was
   * written: the key in the last of those files that sets it. Undefined when none does.
   */
  locateKey(files: readonly string[], path: readonly string[], key = true): SourceLocation | undefined {
    for (const file of [...files].reverse()) {
      const own = this.own.get(file);
      if (own && getParam(own.values, path.join('.')).found) return own.source.locate(path, key);
    }
    return undefined;
  }
}

/** Deep merge where mappings merge key by key and everything else (lists included) is replaced. */
export function deepMerge(base: ParamTree, over: ParamTree): ParamTree {
  const out: ParamTree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prior = out[key];
    out[key] = isPlainObject(prior) && isPlainObject(value) ? deepMerge(prior, value) : value;
  }
  return out;
}

export function getParam(tree: ParamTree, dotted: string): { found: boolean; value?: ParamValue } {
  let node: unknown = tree;
  for (const part of dotted.split('.')) {
    // A list's item by its index (`models.0.lr`), as DVC names it.
    if (Array.isArray(node) && /^\d+$/.test(part) && Number(part) < node.length) node = node[Number(part)];
    else if (!isPlainObject(node) || !(part in node)) return { found: false };
    else node = node[part];
  }
  return { found: true, value: node };
}

/** Returns a copy of `tree` with `dotted` set, creating mappings on the way. */
export function setParam(tree: ParamTree, dotted: string, value: ParamValue): ParamTree {
  const [head, ...rest] = dotted.split('.');
  if (rest.length === 0) return { ...tree, [head]: value };
  const child = isPlainObject(tree[head]) ? (tree[head] as ParamTree) : {};
  return { ...tree, [head]: setParam(child, rest.join('.'), value) };
}

/** Flattens nested params to dotted leaves, for readable diffs (`train.lr 1e-4 -> 3e-4`). */
export function flattenParams(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (isPlainObject(value) && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value)) flattenParams(child, prefix ? `${prefix}.${key}` : key, out);
  } else {
    out[prefix] = value;
  }
  return out;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
}
