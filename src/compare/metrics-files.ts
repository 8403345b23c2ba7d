import path from 'node:path';
import jsYaml from 'js-yaml';
import { resolveBuiltin } from '../builtins.js';
import { UserError } from '../errors.js';
import type { StageInstance } from '../spec/model.js';
import { flattenParams, isPlainObject } from '../spec/params.js';

/** A flattened metric or param value (`val.auc` -> 0.91). */
export type Scalar = number | string | boolean | null;

/**
 * The metrics files of an instance: its `metrics:` list, or for a built-in the files its
 * declaration names inside its outputs (train's `run/metrics.json`, aggregate's results).
 */
export function metricsFilesOf(instance: StageInstance): string[] {
  if (instance.uses === undefined) return instance.metrics;
  const { declaration } = resolveBuiltin(instance.uses, () => instance.location, instance.with);
  const files = (declaration.metrics ?? [])
    .map((m) => {
      const out = instance.ports?.outputs[m.output];
      return out === undefined ? undefined : m.file ? path.posix.join(out, m.file) : out;
    })
    .filter((f): f is string => f !== undefined);
  return [...new Set([...files, ...instance.metrics])];
}

/** Parses a metrics file (JSON, or YAML) into dotted scalars; lists are left out (per-fold values, curves). */
export function parseMetrics(text: string, file: string): Record<string, Scalar> {
  let data: unknown;
  try {
    data = file.endsWith('.json') ? JSON.parse(text) : jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA });
  } catch (error) {
    throw new UserError(`${file} is not ${file.endsWith('.json') ? 'JSON' : 'YAML'} (${(error as Error).message.split('\n')[0]}); a metrics file is a JSON or YAML mapping`);
  }
  if (!isPlainObject(data)) throw new UserError(`${file}: a metrics file is a JSON or YAML mapping (got ${Array.isArray(data) ? 'a list' : typeof data})`);
  return flatScalars(data);
}

/** A params tree or metrics file as dotted scalars (`{val: {auc: 0.9}}` -> `{'val.auc': 0.9}`). */
export function flatScalars(tree: unknown): Record<string, Scalar> {
  return scalars(flattenParams(tree));
}

/** Dotted values that a table can show: numbers, strings, booleans, null; not lists or empty mappings. */
function scalars(flat: Record<string, unknown>): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const [key, value] of Object.entries(flat)) {
    if (value === null || ['number', 'string', 'boolean'].includes(typeof value)) out[key] = value as Scalar;
  }
  return out;
}
