import type { StageInstance } from '../spec/model.js';
import type { Action, Workspace } from './workspace.js';

export interface PlannedStage {
  id: string;
  action: Action;
  reasons: string[];
  /** True when the action depends on what an upstream stage will produce (early cutoff may still skip it). */
  provisional: boolean;
  /** pipeline.lock records the key this stage has now. */
  lockMatches: boolean;
}

/**
 * Predicts what `run` would do without doing it (for `status` and `--dry-run`). Stages below
 * one that must run are marked stale "because upstream X changed": their real fate is known
 * only once X's new outs exist. Below a restore, the restored out hashes are used, so a
 * deleted-but-cached output does not make its dependents look stale.
 */
export async function plan(ws: Workspace, selected: Set<string>, force = false): Promise<PlannedStage[]> {
  const result = new Map<string, PlannedStage>();
  const predictedOuts = new Map<string, Record<string, string>>();
  const planned: PlannedStage[] = [];
  for (const instance of ws.graph.order) {
    if (!selected.has(instance.id)) continue;
    const stale = staleUpstream(ws, instance, selected, result, predictedOuts);
    let entry: PlannedStage;
    if (stale.length && !force) {
      entry = { id: instance.id, action: 'run', reasons: stale.map((id) => `upstream ${id} changed`), provisional: true, lockMatches: false };
    } else {
      const deps = await predictedDeps(ws, instance, predictedOuts);
      const decision = await ws.decide(instance, deps, force);
      entry = { id: instance.id, action: decision.action, reasons: decision.reasons, provisional: false, lockMatches: decision.lockMatches };
      if (decision.action === 'restore' && decision.record) {
        predictedOuts.set(instance.id, Object.fromEntries(Object.entries(decision.record.outs).map(([p, o]) => [p, o.hash])));
      }
    }
    result.set(instance.id, entry);
    planned.push(entry);
  }
  return planned;
}

function staleUpstream(
  ws: Workspace,
  instance: StageInstance,
  selected: Set<string>,
  result: Map<string, PlannedStage>,
  predictedOuts: Map<string, Record<string, string>>,
): string[] {
  const producers = ws.graph.producers.get(instance.id)!;
  const stale = new Set<string>();
  for (const id of ws.graph.upstream.get(instance.id)!) {
    const up = result.get(id);
    if (!selected.has(id) || !up || up.action === 'up-to-date') continue;
    if (up.action === 'restore' && predictedOuts.has(id)) {
      // Known outs: only a dep that is not exactly one of them leaves the outcome unknown.
      const outs = predictedOuts.get(id)!;
      const unknown = [...producers].some(([dep, from]) => from.includes(id) && !(dep in outs));
      if (!unknown) continue;
    }
    stale.add(id);
  }
  return [...stale];
}

async function predictedDeps(ws: Workspace, instance: StageInstance, predictedOuts: Map<string, Record<string, string>>): Promise<Record<string, string>> {
  const deps = await ws.depHashes(instance);
  const producers = ws.graph.producers.get(instance.id)!;
  for (const dep of instance.deps) {
    for (const id of producers.get(dep) ?? []) {
      const outs = predictedOuts.get(id);
      if (outs && dep in outs) deps[dep] = outs[dep];
    }
  }
  return deps;
}

/** What `--frozen` refuses: any stage that would execute, or whose key pipeline.lock does not hold. */
export function frozenViolations(planned: PlannedStage[]): PlannedStage[] {
  return planned.filter((p) => p.action === 'run' || !p.lockMatches);
}
