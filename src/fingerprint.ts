import { resolveBuiltin } from './builtins.js';
import { canonicalJson } from './canonical-json.js';
import { sha256Text } from './hash/sha256.js';
import type { StageInstance } from './spec/model.js';

/** Bump when the meaning of a key changes, so old run records are never mistaken for new ones. */
const KEY_SCHEMA = 1;

/**
 * The inputs to a stage's key. Each field is there because changing it can change the outs:
 * - `definition`: the command after interpolation (values already quoted), or the built-in's
 *   name and version — editing the stage is a new experiment.
 * - `outs`: where results are written is part of what the stage does.
 * - `params`: only the values this stage names, so unrelated config edits don't invalidate it.
 * - `deps`: content hashes (never mtimes or absolute paths, so a touch or a fresh clone elsewhere
 *   keeps the key).
 * - `env`: declared environment variables feed the command.
 */
export interface Fingerprint {
  definition: string;
  outs: string[];
  params: Record<string, unknown>;
  deps: Record<string, string>;
  env: Record<string, string>;
}

/** `withParams` (dotted keys) rebuilds the command as it was with other param values. */
export function definitionOf(instance: StageInstance, withParams?: Record<string, unknown>): string {
  if (withParams) return instance.commandWith(withParams).join('\n');
  if (instance.uses !== undefined) {
    const { declaration } = resolveBuiltin(instance.uses, () => instance.location, instance.with);
    // Which path feeds which named input changes what the stage computes, so the names enter the key.
    const ports = instance.ports ? ' ports ' + canonicalJson(instance.ports) : '';
    return `uses: ${declaration.name}@${declaration.version}${instance.with ? ' with ' + canonicalJson(instance.with) : ''}${ports}`;
  }
  return instance.cmd.join('\n');
}

export function fingerprintOf(instance: StageInstance, depHashes: Record<string, string>): Fingerprint {
  return {
    definition: definitionOf(instance),
    outs: [...instance.outs].sort(),
    params: instance.params,
    deps: depHashes,
    env: instance.env,
  };
}

export function keyOf(fingerprint: Fingerprint): string {
  return sha256Text(canonicalJson({ schema: KEY_SCHEMA, ...fingerprint }));
}
