import { readFileSync } from 'node:fs';
import path from 'node:path';
import jsYaml from 'js-yaml';
import { UserError } from '../errors.js';
import type { Workspace } from '../run/workspace.js';
import { isPlainObject, ParamsLoader } from '../spec/params.js';
import { YamlSource } from '../spec/yaml-source.js';
import type { LockEntry } from '../store/lockfile.js';
import type { StageInstance } from '../spec/model.js';
import { isWithin } from '../paths.js';
import { isSha256 } from '../store/untrusted.js';
import { resolveRevision, showAt } from './git.js';
import { flatScalars, metricsFilesOf, parseMetrics, type Scalar } from './metrics-files.js';

/** DVC's shapes: `{file: {key: {old, new}}}`, metrics with `diff` (new - old) where both are numbers. */
export type ParamsDiff = Record<string, Record<string, { old: Scalar; new: Scalar }>>;
export type MetricsDiff = Record<string, Record<string, { old: Scalar; new: Scalar; diff?: number }>>;

const LOCK_SCHEMA = 1;

/** Every params and config file the project reads (global params, matrix configs, their `extends:`), resolved, workspace against `rev`. */
export function paramsDiff(ws: Workspace, rev: string): ParamsDiff {
  const { commit } = resolveRevision(ws.project.dir, rev);
  const now = new ParamsLoader(ws.project.dir);
  const then = new ParamsLoader(ws.project.dir, (rel) => {
    const text = showAt(ws.project.dir, commit, rel);
    if (text === undefined) throw new UserError('file not found', { file: rel });
    return YamlSource.parse(text, `${rel} at ${rev}`);
  });
  const files = ws.project.inputFiles.filter((f) => f !== ws.project.specFile).sort();
  const diff: ParamsDiff = {};
  for (const file of files) {
    const newValues = flatScalars(now.load(file).values);
    let oldValues: Record<string, Scalar> = {};
    try {
      oldValues = flatScalars(then.load(file).values);
    } catch (error) {
      if (!(error instanceof UserError && error.message === 'file not found')) throw error;
    }
    const changes = changed(oldValues, newValues);
    if (Object.keys(changes).length) diff[file] = changes;
  }
  return diff;
}

function changed(old: Record<string, Scalar>, now: Record<string, Scalar>): Record<string, { old: Scalar; new: Scalar }> {
  const out: Record<string, { old: Scalar; new: Scalar }> = {};
  for (const key of [...new Set([...Object.keys(old), ...Object.keys(now)])].sort()) {
    const a = key in old ? old[key] : null;
    const b = key in now ? now[key] : null;
    if (a !== b) out[key] = { old: a, new: b };
  }
  return out;
}

export interface MetricsDiffResult {
  diff: MetricsDiff;
  /** Metrics whose old values could not be had, and what to do. */
  missing: string[];
}

/**
 * Metrics files of the workspace against those `rev` built: the old values come from the
 * cache through the pipeline.lock committed at `rev` (so metrics files need not be
 * committed), else from the file committed at `rev`.
 */
export function metricsDiff(ws: Workspace, rev: string): MetricsDiffResult {
  const { commit } = resolveRevision(ws.project.dir, rev);
  const lock = lockAt(ws, commit, rev);
  const diff: MetricsDiff = {};
  const missing: string[] = [];
  // Top-level metrics of a dvc.yaml that no stage writes: the committed file is all there is.
  const written = new Set(ws.project.instances.flatMap((i) => metricsFilesOf(i)));
  const unowned = ws.project.metrics.filter((file) => !written.has(file));
  const owners: { instance?: StageInstance; files: string[] }[] = [...ws.project.instances.map((instance) => ({ instance, files: metricsFilesOf(instance) })), { files: unowned }];
  for (const { instance, files } of owners) {
    for (const file of files) {
      let now: Record<string, Scalar> = {};
      try {
        now = parseMetrics(readFileSync(path.resolve(ws.project.dir, file), 'utf8'), file);
      } catch (error) {
        if (error instanceof UserError) throw error;
      }
      // A `cache: false` metrics file is never in the cache: git has it (DVC's way).
      const fromCache =
        !instance || Object.entries(instance.outOptions).some(([out, o]) => o.cache === false && isWithin(file, out))
          ? undefined
          : oldMetricsText(ws, lock[instance.id], file, (problem) => missing.push(`${file} (${instance.id}) at ${rev}: ${problem}`));
      const oldText = fromCache ?? showAt(ws.project.dir, commit, file);
      const old = oldText === undefined ? {} : parseMetrics(oldText, `${file} at ${rev}`);
      const entries: MetricsDiff[string] = {};
      for (const [key, change] of Object.entries(changed(old, now))) {
        entries[key] = typeof change.old === 'number' && typeof change.new === 'number' ? { ...change, diff: change.new - change.old } : change;
      }
      if (Object.keys(entries).length) diff[file] = entries;
    }
  }
  return { diff, missing };
}

function lockAt(ws: Workspace, commit: string, rev: string): Record<string, LockEntry> {
  const text = showAt(ws.project.dir, commit, path.relative(ws.project.dir, ws.layout.lockFile).split(path.sep).join('/'));
  if (text === undefined) return {};
  let data: unknown;
  try {
    data = jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA });
  } catch {
    throw new UserError(`pipeline.lock at ${rev} is not valid YAML`);
  }
  const schema = isPlainObject(data) ? data.schema : undefined;
  if (schema !== LOCK_SCHEMA) throw new UserError(`pipeline.lock at ${rev} has schema ${String(schema)}; this pipeline reads schema ${LOCK_SCHEMA} (the revision predates it: compare with a later one)`);
  return (isPlainObject(data) && isPlainObject(data.stages) ? data.stages : {}) as Record<string, LockEntry>;
}

/** The metrics file's bytes as the locked run produced them, read from the cache; undefined (with a reason) when it cannot be. */
function oldMetricsText(ws: Workspace, entry: LockEntry | undefined, file: string, onMissing: (problem: string) => void): string | undefined {
  if (!entry) return undefined;
  const out = Object.keys(entry.outs).find((o) => o === file || file.startsWith(`${o}/`));
  if (!out) return undefined;
  let hash = entry.outs[out];
  if (!isSha256(hash) || !ws.store.has(hash)) {
    onMissing(`cache object ${String(hash).slice(0, 12)}… (out ${out}) is not in the cache; run \`pipeline cache pull\` for that revision's lock, or rebuild it`);
    return undefined;
  }
  if (out !== file) {
    const inner = ws.store.readManifest(hash).find((e) => e.path === file.slice(out.length + 1));
    if (!inner) return undefined;
    hash = inner.hash;
    if (!ws.store.has(hash)) {
      onMissing(`cache object ${hash.slice(0, 12)}… is not in the cache; run \`pipeline cache pull\``);
      return undefined;
    }
  }
  return ws.store.readText(hash);
}
