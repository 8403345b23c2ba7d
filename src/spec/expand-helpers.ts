import { isUrlDep } from '../paths.js';
import path from 'node:path';
import { UserError, type Where } from '../errors.js';
import { executorKinds } from '../executors/registry.js';
import { normalizeDepPath, normalizeProjectPath } from '../paths.js';
import { ConfigRef, interpolate, type Scope } from './interpolate.js';
import { getParam, isPlainObject, setParam, type ParamTree } from './params.js';
import type { RawStage } from './stage-expander.js';

/** Small pieces of expanding a stage that need none of its state. */

export function applyOverrides(tree: ParamTree, overrides: [string, unknown][]): ParamTree {
  return overrides.reduce((acc, [key, value]) => setParam(acc, key, value), tree);
}


export function checkedPath(raw: string, where: Where, outsideAllowed = false, base = ''): string {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(raw)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (!outsideAllowed) {
      throw new UserError(
        `"${raw}" is a URL: outs stay inside the project (DVC 3 removed "external outputs" too). Write the out under the project and upload it in a stage of its own (cmd: aws s3 cp out/... ${raw}), or share results through a remote (remote: { url: s3://... })`,
        where,
      );
    }
    if (scheme === 'ds') {
      throw new UserError(`"${raw}": DVC's dataset deps (ds://, resolved by \`dvc ds\`) are not supported; name the dataset's files (a path, an http(s):// or s3:// URL) as the dep instead`, where);
    }
    if (!isUrlDep(raw)) {
      throw new UserError(`"${raw}": ${scheme}:// deps are not supported (http://, https:// and s3:// are, checked by ETag); fetch it in a stage of its own and depend on the local file`, where);
    }
    return raw;
  }
  const joined = base && !path.isAbsolute(raw) ? path.posix.join(base, raw) : raw;
  const result = outsideAllowed ? normalizeDepPath(joined) : normalizeProjectPath(joined);
  if ('error' in result) throw new UserError(result.error, where);
  return result.path;
}


export function suggestKeys(tree: ParamTree, key: string): string {
  const parent = key.includes('.') ? key.slice(0, key.lastIndexOf('.')) : '';
  const node = parent ? getParam(tree, parent).value : tree;
  const keys = isPlainObject(node) ? Object.keys(node).map((k) => (parent ? `${parent}.${k}` : k)) : [];
  return keys.length ? `valid keys here: ${keys.join(', ')}` : 'no such key';
}


export function interpolateDeep(value: unknown, scopes: Scope[], where: Where): unknown {
  if (typeof value === 'string') {
    const result = interpolate(value, scopes, where);
    return result instanceof ConfigRef ? result.path : result;
  }
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, scopes, where));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, scopes, where)]));
  return value;
}

/** The stage's option blocks named after executors (`slurm:`); the schema has checked their shape. */
export function executorOptionsOf(body: RawStage): Record<string, Record<string, unknown>> {
  const blocks: Record<string, Record<string, unknown>> = {};
  for (const kind of executorKinds) {
    const block = (body as Record<string, unknown>)[kind.name];
    if (kind.options && isPlainObject(block)) blocks[kind.name] = block;
  }
  return blocks;
}

