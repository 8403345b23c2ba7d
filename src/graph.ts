import { isUrlDep } from './paths.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { UserError } from './errors.js';
import { ancestors, isWithin, symlinkEscapeChecker } from './paths.js';
import type { Project, StageInstance } from './spec/model.js';
import { closest } from './spec/schema.js';

/**
 * The stage graph: edges come from paths (a dep equal to, inside, or containing another
 * instance's out) plus `after:`. Construction refuses every ambiguity up front so that a run
 * never discovers it halfway.
 */
export class StageGraph {
  /** Upstream ids per instance id. */
  readonly upstream = new Map<string, Set<string>>();
  readonly downstream = new Map<string, Set<string>>();
  /** The out path and owning instance that each dep resolved to, for explanations. */
  readonly producers = new Map<string, Map<string, string[]>>();
  /** Instances in an order where every upstream comes first. */
  readonly order: StageInstance[];

  constructor(readonly project: Project) {
    const outOwner = new Map<string, StageInstance>();
    const outsUnder = new Map<string, StageInstance[]>();
    checkOuts(project, outOwner, outsUnder);

    for (const instance of project.instances) {
      this.upstream.set(instance.id, new Set());
      this.downstream.set(instance.id, new Set());
      this.producers.set(instance.id, new Map());
    }
    for (const instance of project.instances) {
      instance.deps.forEach((dep, index) => {
        // On a server: no stage produces it, and only a HEAD at hashing time can say it exists.
        if (isUrlDep(dep)) return void this.producers.get(instance.id)!.set(dep, []);
        const producers = new Set<StageInstance>();
        const exact = outOwner.get(dep);
        if (exact) producers.add(exact);
        for (const dir of ancestors(dep)) {
          const owner = outOwner.get(dir);
          if (owner) producers.add(owner);
        }
        for (const owner of outsUnder.get(dep) ?? []) producers.add(owner);
        producers.delete(instance);
        if (producers.size === 0 && !existsSync(path.resolve(project.dir, dep)) && !this.standInWrites(project, dep)) {
          throw new UserError(
            `dep "${dep}" of ${instance.id} does not exist and no stage produces it (add the stage that writes it, or fix the path)`,
            instance.fieldLocation('deps', index),
          );
        }
        this.producers.get(instance.id)!.set(dep, [...producers].map((p) => p.id));
        for (const producer of producers) this.addEdge(producer.id, instance.id);
      });
      for (const id of instance.after) this.addEdge(id, instance.id);
      // Listed from a file a stage writes: after that stage, though the file is not in its key.
      for (const { file } of instance.dynamic ?? []) {
        for (const owner of [outOwner.get(file), ...ancestors(file).map((dir) => outOwner.get(dir))]) if (owner && owner !== instance) this.addEdge(owner.id, instance.id);
      }
    }
    this.holdBackBelowStandIns(project);
    this.order = this.topologicalOrder();
  }

  /**
   * A stand-in (instances a `from:` file will list) owns no out yet, but whatever reads the
   * folders its instances will write must wait for them: edges by those folders.
   */
  private holdBackBelowStandIns(project: Project): void {
    const standIns = project.instances.filter((i) => i.pending && i.pending.under.length);
    if (standIns.length === 0) return;
    for (const instance of project.instances) {
      for (const standIn of standIns) {
        if (standIn === instance || this.upstream.get(standIn.id)!.has(instance.id)) continue;
        if (instance.deps.some((dep) => standIn.pending!.under.some((under) => isWithin(dep, under) || isWithin(under, dep)))) this.addEdge(standIn.id, instance.id);
      }
    }
  }

  /** Whether a stand-in's instances will write `dep` (or inside it): then it is not missing, only not listed yet. */
  private standInWrites(project: Project, dep: string): boolean {
    return project.instances.some((i) => i.pending?.under.some((under) => isWithin(dep, under) || isWithin(under, dep)));
  }

  private addEdge(from: string, to: string): void {
    this.upstream.get(to)!.add(from);
    this.downstream.get(from)!.add(to);
  }

  private topologicalOrder(): StageInstance[] {
    const indegree = new Map<string, number>();
    for (const [id, ups] of this.upstream) indegree.set(id, ups.size);
    const ready = this.project.instances.filter((i) => indegree.get(i.id) === 0).map((i) => i.id);
    const order: StageInstance[] = [];
    while (ready.length) {
      const id = ready.shift()!;
      order.push(this.project.byId.get(id)!);
      for (const down of this.downstream.get(id)!) {
        const left = indegree.get(down)! - 1;
        indegree.set(down, left);
        if (left === 0) ready.push(down);
      }
    }
    if (order.length !== this.project.instances.length) {
      const cycle = this.findCycle(new Set(order.map((i) => i.id)));
      const first = this.project.byId.get(cycle[0])!;
      throw new UserError(`dependency cycle: ${cycle.join(' -> ')} (break it by removing one of these deps or after: entries)`, first.location);
    }
    return order;
  }

  private findCycle(done: Set<string>): string[] {
    const start = this.project.instances.find((i) => !done.has(i.id))!.id;
    const stack: string[] = [];
    const onStack = new Set<string>();
    const visited = new Set<string>();
    const visit = (id: string): string[] | undefined => {
      stack.push(id);
      onStack.add(id);
      visited.add(id);
      for (const next of this.downstream.get(id)!) {
        if (done.has(next)) continue;
        if (onStack.has(next)) return [...stack.slice(stack.indexOf(next)), next];
        if (!visited.has(next)) {
          const found = visit(next);
          if (found) return found;
        }
      }
      stack.pop();
      onStack.delete(id);
      return undefined;
    };
    return visit(start) ?? [start];
  }

  /** Resolves CLI targets (names, ids, globs) to the ids they name plus everything upstream. */
  select(targets: readonly string[]): Set<string> {
    return targets.length === 0 ? new Set(this.project.instances.map((i) => i.id)) : this.withUpstream(this.matching(targets));
  }

  /** The instances the targets name themselves, without what they depend on (what `exp show` lists). */
  matching(targets: readonly string[]): Set<string> {
    if (targets.length === 0) return new Set(this.project.instances.map((i) => i.id));
    const roots = new Set<string>();
    for (const target of targets) {
      const matched = this.matchTarget(target);
      if (matched.length === 0) {
        const names = [...this.project.stageNames, ...this.project.instances.map((i) => i.id)];
        const suggestion = closest(target, names);
        throw new UserError(
          `unknown target "${target}"${suggestion ? `; did you mean "${suggestion}"?` : ''} (stages: ${this.project.stageNames.join(', ')}; ` +
            'a target is a stage name, an instance id such as train@exp=a,fold=0, or a glob such as "train@exp=resnet*")',
          { file: this.project.specFile },
        );
      }
      matched.forEach((id) => roots.add(id));
    }
    return roots;
  }

  matchTarget(target: string): string[] {
    const byName = this.project.instances.filter((i) => i.stage === target).map((i) => i.id);
    if (byName.length) return byName;
    if (this.project.byId.has(target)) return [target];
    const isMatch = picomatch(target, { dot: true });
    return this.project.instances.filter((i) => isMatch(i.id) || isMatch(i.stage)).map((i) => i.id);
  }

  withUpstream(roots: Iterable<string>): Set<string> {
    const selected = new Set<string>();
    const stack = [...roots];
    while (stack.length) {
      const id = stack.pop()!;
      if (selected.has(id)) continue;
      selected.add(id);
      stack.push(...this.upstream.get(id)!);
    }
    return selected;
  }

  /** Every instance downstream of `ids` (inclusive). */
  withDownstream(ids: Iterable<string>): Set<string> {
    const selected = new Set<string>();
    const stack = [...ids];
    while (stack.length) {
      const id = stack.pop()!;
      if (selected.has(id)) continue;
      selected.add(id);
      stack.push(...this.downstream.get(id)!);
    }
    return selected;
  }

  /** Length of the longest path from each instance to a sink within `selected`: the scheduler's priority. */
  longestPathToSink(selected: Set<string>): Map<string, number> {
    const depth = new Map<string, number>();
    for (const instance of [...this.order].reverse()) {
      if (!selected.has(instance.id)) continue;
      let best = 0;
      for (const down of this.downstream.get(instance.id)!) {
        if (selected.has(down)) best = Math.max(best, depth.get(down)!);
      }
      depth.set(instance.id, best + 1);
    }
    return depth;
  }
}

function checkOuts(project: Project, outOwner: Map<string, StageInstance>, outsUnder: Map<string, StageInstance[]>): void {
  const all: { out: string; instance: StageInstance; index: number }[] = [];
  const escapesProject = symlinkEscapeChecker(project.dir);
  for (const instance of project.instances) {
    instance.outs.forEach((out, index) => {
      const prior = outOwner.get(out);
      if (prior) {
        const who = prior === instance ? `${instance.id} lists it twice` : `${prior.id} and ${instance.id} both write it`;
        throw new UserError(`out "${out}" has two owners: ${who}; every out must belong to exactly one stage instance`, outLocation(instance, out));
      }
      if (escapesProject(out)) {
        throw new UserError(`out "${out}" of ${instance.id} resolves through a symlink to outside the project`, outLocation(instance, out));
      }
      outOwner.set(out, instance);
      all.push({ out, instance, index });
      for (const dir of ancestors(out)) {
        const list = outsUnder.get(dir) ?? [];
        list.push(instance);
        outsUnder.set(dir, list);
      }
    });
  }
  for (const { out, instance } of all) {
    for (const dir of ancestors(out)) {
      const owner = outOwner.get(dir);
      if (owner) {
        throw new UserError(
          `out "${out}" of ${instance.id} is inside out "${dir}" of ${owner.id}; outs may not nest (write to a sibling path, or make one stage own both)`,
          outLocation(instance, out),
        );
      }
    }
  }
}

function outLocation(instance: StageInstance, out: string) {
  for (const field of ['outs', 'metrics', 'plots'] as const) {
    const index = instance[field].indexOf(out);
    if (index >= 0) return instance.fieldLocation(field, index);
  }
  return instance.location;
}
