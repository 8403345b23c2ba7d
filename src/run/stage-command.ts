import path from 'node:path';
import { resolveBuiltin } from '../builtins.js';
import { onDiskFull } from '../disk-full.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { PROTOCOL_VERSION, type StageSpec } from '../protocol/stage-protocol.js';
import { safeName } from '../paths.js';
import { shellQuote } from '../spec/interpolate.js';
import type { StageInstance } from '../spec/model.js';
import type { Workspace } from './workspace.js';

/** Built-in stages run as `node <entry> <spec.json>`, the same command line on any executor. */
export function commandFor(instance: StageInstance, ws: Workspace): string {
  if (instance.uses === undefined) return instance.cmd.join('\n');
  const { declaration, entry } = resolveBuiltin(instance.uses, () => instance.location, instance.with);
  const specFile = path.join(ws.layout.tmp('specs'), `${safeName(instance.id)}.json`);
  const spec: StageSpec = {
    protocol: PROTOCOL_VERSION,
    id: instance.id,
    stage: declaration.name,
    version: declaration.version,
    params: instance.params,
    options: instance.with ?? {},
    inputs: instance.ports?.inputs ?? {},
    outputs: instance.ports?.outputs ?? {},
    metrics: instance.metrics,
    plots: instance.plots,
    stageCache: path.relative(ws.project.dir, ws.layout.stageCache(declaration.name)),
  };
  onDiskFull(
    () => writeFileAtomic(specFile, JSON.stringify(spec, null, 2)),
    () => ws.cacheFull(`the spec of ${instance.id}`),
  );
  return `exec ${shellQuote(process.execPath)} ${shellQuote(entry)} ${shellQuote(specFile)}`;
}
