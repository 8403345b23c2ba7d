import type { Executor } from '../executors/executor.js';
import { executorKind } from '../executors/registry.js';
import { Workspace } from '../run/workspace.js';
import { loadProject } from '../spec/load.js';
import type { StageInstance } from '../spec/model.js';
import { readLocalConfig } from './local-config.js';

export interface SessionOptions {
  specFile: string;
  /** `-S key=value` overrides. */
  overrides?: string[];
  /** `--executor`, if given. */
  executor?: string;
}

/** Load -> workspace: what `run`, `status`, `watch` and the cache commands all start from. */
export function openWorkspace(options: SessionOptions, shared: ConstructorParameters<typeof Workspace>[1] = {}): Workspace {
  return new Workspace(loadProject({ specFile: options.specFile, ...(options.overrides ? { overrides: options.overrides } : {}) }), shared);
}

/**
 * The executor for each instance: the stage's own `executor:`, else `--executor`, else
 * .pipeline/config.yaml, else pipeline.yaml, else local. Each kind is created once, when first
 * used; `created` carries them across watch passes (a job one pass submitted is awaited by the next).
 */
export function executorChooser(ws: Workspace, flag: string | undefined, created = new Map<string, Executor>()): (instance: StageInstance) => Executor {
  const fallback = flag ?? readLocalConfig(ws.project.specDir).executor ?? ws.project.executor ?? 'local';
  executorKind(fallback, flag ? undefined : { file: '.pipeline/config.yaml or pipeline.yaml (executor:)' });
  return (instance) => {
    const name = instance.executor ?? fallback;
    let executor = created.get(name);
    if (!executor) {
      executor = executorKind(name, () => instance.location).create({ stateDir: ws.layout.tmp(name) });
      created.set(name, executor);
    }
    return executor;
  };
}
