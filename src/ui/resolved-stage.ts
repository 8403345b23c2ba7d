import type { StageGraph } from '../graph.js';
import type { StageInstance } from '../spec/model.js';

/**
 * What one stage instance resolved to, after interpolation, matrices, params files and named
 * ports: what `pipeline dag --json` and `run --dry-run --json` print (DESIGN "Seeing what
 * resolved"; DVC's `dvc stage list` and `repro --dry`, Snakemake's `-n -p`).
 */
export interface ResolvedStage {
  id: string;
  stage: string;
  /** A command stage's commands, one per entry of its `cmd:`. */
  cmd?: string[];
  /** A built-in's name and `with:` options. */
  uses?: string;
  with?: Record<string, unknown>;
  /** Where it runs, relative to the project ('.' for the root). */
  wdir: string;
  deps: { path: string; name?: string; upstream?: string[] }[];
  outs: { path: string; name?: string; cache: boolean; persist: boolean; push: boolean; metric: boolean; plot: boolean }[];
  params: Record<string, unknown>;
  frozen: boolean;
  always_changed: boolean;
  executor?: string;
  resources: StageInstance['resources'];
  env: Record<string, string>;
  upstream: string[];
  /** A stand-in: the file its instances will be listed from, and the folders they will write. */
  pending?: { from: string; writes: string[] };
  /** Listed from files an upstream stage wrote (a `from:` axis, a search's rung). */
  listed_from?: string[];
}

const nameOf = (ports: Record<string, string> | undefined, path: string) => (ports ? Object.entries(ports).find(([, p]) => p === path)?.[0] : undefined);

export function resolvedStage(instance: StageInstance, graph: StageGraph): ResolvedStage {
  const producers = graph.producers.get(instance.id);
  const out: ResolvedStage = {
    id: instance.id,
    stage: instance.stage,
    ...(instance.uses === undefined ? { cmd: instance.cmd } : { uses: instance.uses, with: instance.with ?? {} }),
    wdir: instance.cwd || '.',
    deps: instance.deps.map((path) => {
      const name = nameOf(instance.ports?.inputs, path);
      const from = producers?.get(path);
      return { path, ...(name ? { name } : {}), ...(from?.length ? { upstream: from } : {}) };
    }),
    outs: instance.outs.map((path) => {
      const options = instance.outOptions[path] ?? {};
      const name = nameOf(instance.ports?.outputs, path);
      return {
        path,
        ...(name ? { name } : {}),
        cache: options.cache ?? true,
        persist: options.persist ?? false,
        push: options.push ?? true,
        metric: instance.metrics.includes(path),
        plot: instance.plots.includes(path),
      };
    }),
    params: instance.params,
    frozen: Boolean(instance.frozen),
    always_changed: Boolean(instance.alwaysChanged),
    resources: instance.resources,
    env: instance.env,
    upstream: [...(graph.upstream.get(instance.id) ?? [])].sort(),
  };
  if (instance.executor !== undefined) out.executor = instance.executor;
  if (instance.pending) out.pending = { from: instance.pending.from, writes: instance.pending.under };
  if (instance.dynamic?.length) out.listed_from = instance.dynamic.map((d) => d.file);
  return out;
}
