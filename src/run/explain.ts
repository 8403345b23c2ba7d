import { canonicalJson } from '../canonical-json.js';
import type { Fingerprint } from '../fingerprint.js';
import type { LockEntry } from '../store/lockfile.js';
import { flattenParams } from '../spec/params.js';

/** Formats a param value the way a researcher wrote it (`1e-4`, not `0.0001`). */
export function formatValue(value: unknown): string {
  if (typeof value === 'number' && value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6)) {
    return value.toExponential().replace(/e\+/, 'e');
  }
  if (value === undefined) return '(unset)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Why a stage's key differs from the one in pipeline.lock, in the terms the user edits:
 * params with old -> new values, deps by path (or the upstream stage that produced them),
 * definition, env. `producers` maps each dep to the instances whose outs it touches.
 */
export function explainKeyChange(
  entry: LockEntry | undefined,
  now: Fingerprint,
  producers: Map<string, string[]>,
  /** The definition this stage would have with the given (older) param values; see StageInstance.definitionWith. */
  definitionWith?: (params: Record<string, unknown>) => string,
  /** Which files of a changed directory dep changed, when known (`d500/f500.txt modified`). */
  depDetail?: (dep: string) => string | undefined,
): string[] {
  if (!entry) return ['never run (not in pipeline.lock)'];
  const reasons: string[] = [];
  const definitionChanged = entry.cmd !== now.definition;

  const oldParams = flattenParams(entry.params ?? {});
  const newParams = flattenParams(now.params);
  for (const key of [...new Set([...Object.keys(oldParams), ...Object.keys(newParams)])].sort()) {
    const before = oldParams[key];
    const after = newParams[key];
    if (canonicalJson(before) === canonicalJson(after)) continue;
    if (!(key in oldParams)) reasons.push(`param ${key} added (${formatValue(after)})`);
    else if (!(key in newParams)) reasons.push(`param ${key} removed`);
    else reasons.push(`param ${key} ${formatValue(before)} -> ${formatValue(after)}`);
  }

  // A command that interpolates a changed param changes with it; that is the param's doing,
  // not an edit of the command, unless the old values do not rebuild the old command.
  const paramsExplainIt = definitionWith !== undefined && reasons.length > 0 && definitionWith(oldParams) === entry.cmd;
  if (definitionChanged && !paramsExplainIt) reasons.unshift('definition changed');

  const upstream = new Set<string>();
  for (const dep of [...new Set([...Object.keys(entry.deps ?? {}), ...Object.keys(now.deps)])].sort()) {
    const before = entry.deps?.[dep];
    const after = now.deps[dep];
    if (before === after) continue;
    if (before === undefined) reasons.push(`dep ${dep} added`);
    else if (after === undefined) reasons.push(`dep ${dep} removed`);
    else {
      const from = producers.get(dep) ?? [];
      if (from.length) from.forEach((id) => upstream.add(id));
      else if (after === 'missing') reasons.push(`dep ${dep} missing`);
      else {
        const detail = depDetail?.(dep);
        reasons.push(`dep ${dep} changed${detail ? `: ${detail}` : ''}`);
      }
    }
  }
  for (const id of upstream) reasons.push(`upstream ${id} changed`);

  const oldEnv = entry.env ?? {};
  for (const key of [...new Set([...Object.keys(oldEnv), ...Object.keys(now.env)])].sort()) {
    if (oldEnv[key] !== now.env[key]) reasons.push(`env ${key} changed`);
  }
  const oldOuts = Object.keys(entry.outs ?? {}).sort();
  if (canonicalJson(oldOuts) !== canonicalJson(now.outs)) reasons.push('outs changed');
  if (reasons.length === 0) reasons.push('key changed (pipeline version)');
  return reasons;
}

