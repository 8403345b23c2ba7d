import type { StoredOut } from '../store/object-store.js';
import { dirHash, type ManifestEntry } from '../hash/content-hasher.js';
import { isWithin } from '../paths.js';
import type { StageInstance } from '../spec/model.js';
import type { Action, Workspace } from './workspace.js';

export interface PlannedStage {
  id: string;
  /** `deferred`: instances a `from:` file will list, planned once the stage writing it has run. */
  action: Action | 'deferred';
  reasons: string[];
  /** True when the action depends on what an upstream stage will produce (early cutoff may still skip it). */
  provisional: boolean;
  /** pipeline.lock records the key this stage has now. */
  lockMatches: boolean;
}

type PredictedOuts = Map<string, Record<string, StoredOut>>;

/**
 * Predicts what `run` would do without doing it (for `status`, `--dry-run` and `--frozen`).
 * Below a stage that must run, stages are stale "because upstream X changed": their fate is
 * known only once X's new outs exist. Below a restore, the outs are known from the run record,
 * so dep hashes are computed as they will be after the restore, and a deleted-but-cached
 * output does not make its dependents look stale.
 */
export async function plan(ws: Workspace, selected: Set<string>, force = false): Promise<PlannedStage[]> {
  const result = new Map<string, PlannedStage>();
  const predicted: PredictedOuts = new Map();
  const planned: PlannedStage[] = [];
  for (const instance of ws.graph.order) {
    if (!selected.has(instance.id)) continue;
    const stale = [...ws.graph.upstream.get(instance.id)!].filter((id) => {
      const up = result.get(id);
      return selected.has(id) && up !== undefined && up.action !== 'up-to-date' && !predicted.has(id);
    });
    let entry: PlannedStage;
    if (instance.pending) {
      const writer = ws.graph.producers.get(instance.id)!.get(instance.pending.from)?.join(', ');
      entry = { id: instance.id, action: 'deferred', reasons: [`its instances are listed in ${instance.pending.from}${writer ? `, which ${writer} writes` : ''}: planned once that has run`], provisional: false, lockMatches: false };
    } else if (stale.length && !force && !instance.frozen) {
      // A frozen stage ignores its upstream: what pipeline.lock records stands. Below a stand-in, nothing is known until it is listed.
      const waits = stale.filter((id) => result.get(id)!.action === 'deferred');
      entry = waits.length
        ? { id: instance.id, action: 'deferred', reasons: waits.map((id) => `waits for ${id}`), provisional: false, lockMatches: false }
        : { id: instance.id, action: 'run', reasons: stale.map((id) => `upstream ${id} changed`), provisional: true, lockMatches: false };
    } else {
      const deps = await predictedDeps(ws, instance, predicted);
      const decision = await ws.decide(instance, deps, force);
      entry = { id: instance.id, action: decision.action, reasons: decision.reasons, provisional: false, lockMatches: decision.lockMatches };
      if (decision.action === 'restore' && decision.record) predicted.set(instance.id, decision.record.outs);
    }
    result.set(instance.id, entry);
    planned.push(entry);
  }
  return planned;
}

/** Dep hashes as they will be once the restores planned upstream have put their outs in place. */
async function predictedDeps(ws: Workspace, instance: StageInstance, predicted: PredictedOuts): Promise<Record<string, string>> {
  const deps = await ws.depHashes(instance);
  const producers = ws.graph.producers.get(instance.id)!;
  for (const dep of instance.deps) {
    const restored: [string, StoredOut][] = [];
    for (const id of producers.get(dep) ?? []) {
      const outs = predicted.get(id);
      if (outs) restored.push(...Object.entries(outs).filter(([out]) => isWithin(out, dep) || isWithin(dep, out)));
    }
    if (restored.length) deps[dep] = await predictDep(ws, dep, restored);
  }
  return deps;
}

async function predictDep(ws: Workspace, dep: string, restored: [string, StoredOut][]): Promise<string> {
  const exact = restored.find(([out]) => out === dep);
  if (exact) return exact[1].hash;
  const enclosing = restored.find(([out]) => isWithin(dep, out));
  if (enclosing) {
    // The dep lies inside a restored directory: read it out of that directory's manifest.
    const [out, stored] = enclosing;
    const inner = dep.slice(out.length + 1);
    const entries = stored.kind === 'dir' ? ws.manifestOf(stored.hash) : [];
    const file = entries.find((e) => e.path === inner);
    if (file) return file.hash;
    const under = entries.filter((e) => e.path.startsWith(inner + '/')).map((e) => ({ ...e, path: e.path.slice(inner.length + 1) }));
    return under.length ? dirHash(under) : 'missing';
  }
  // The dep is a directory holding restored outs: today's listing with those outs replaced.
  const current = await ws.hasher.hash(dep);
  let entries: ManifestEntry[] = current.kind === 'dir' ? await ws.hasher.entries(dep) : [];
  for (const [out, stored] of restored) {
    const rel = out.slice(dep.length + 1);
    entries = entries.filter((e) => !isWithin(e.path, rel));
    if (stored.kind === 'file') entries.push({ path: rel, hash: stored.hash, exec: stored.exec });
    else for (const e of ws.manifestOf(stored.hash)) entries.push({ ...e, path: `${rel}/${e.path}` });
  }
  return dirHash(entries);
}

/**
 * What `--frozen` refuses: any stage that would execute, or whose key pipeline.lock does not
 * hold. A stand-in is not refused here: its instances are checked in the round that lists them
 * (a fresh clone restores a search rung by rung), where one that would run fails the run.
 */
export function frozenViolations(planned: PlannedStage[]): PlannedStage[] {
  return planned.filter((p) => p.action !== 'deferred' && (p.action === 'run' || !p.lockMatches));
}
