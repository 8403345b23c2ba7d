import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { declarationFor, parseStageSpec, progressLine, type StageDeclaration, type StageSpec } from '../../src/protocol/stage-protocol.js';
import { withEta } from './progress-eta.js';

/**
 * What a built-in stage receives: the spec's paths and options as the engine wrote them (one
 * definition, src/protocol), its params nested back into objects, and ways to talk to the engine.
 */
export interface StageContext<P = Record<string, unknown>> extends Pick<StageSpec, 'id' | 'options' | 'inputs' | 'outputs' | 'metrics' | 'plots' | 'stageCache'> {
  /** The stage's param set (dotted names such as `train.lr` are nested back into objects). */
  params: P;
  /** A line in the stage's log. */
  log(message: string): void;
  /** A `--json` progress event (epoch, fold, ...) that the CLI shows live. */
  progress(data: Record<string, unknown>): void;
  /** Aborted on SIGTERM/SIGINT: stop soon, write nothing more. */
  signal: AbortSignal;
}

/** A built-in: its declaration (stages/<name>/declaration.ts, what the engine checks against) and its code. */
export interface BuiltinStage<P = Record<string, unknown>> {
  declaration: StageDeclaration;
  run(ctx: StageContext<P>): Promise<void>;
}

/** `{"train.lr": 1}` -> `{train: {lr: 1}}`, so stages see one shape whichever way params were named. */
export function nestDotted(flat: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) {
      if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

export class StageError extends Error {}

/** The entry point of every `stages/<name>/main.ts`: read the spec, validate, run, exit. */
export async function runStage<P>(stage: BuiltinStage<P>, argv = process.argv): Promise<void> {
  const specFile = argv[2];
  if (!specFile) {
    process.stderr.write(`usage: node ${stage.declaration.name}/main.js <spec.json>\n`);
    process.exit(2);
  }
  const spec = parseStageSpec(readFileSync(specFile, 'utf8'), specFile);
  const declaration = declarationFor(stage.declaration, spec.options);
  if (spec.stage !== declaration.name || spec.version !== declaration.version) {
    process.stderr.write(`${declaration.name}@${declaration.version}: the spec is for ${spec.stage}@${spec.version}\n`);
    process.exit(2);
  }
  const params = nestDotted(spec.params);
  const Ajv = createRequire(import.meta.url)('ajv') as typeof import('ajv').default;
  const validate: ValidateFunction = new Ajv({ allErrors: true, strict: false, useDefaults: true }).compile(declaration.params);
  if (!validate(params)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '(params)'} ${e.message ?? ''}`).join('; ');
    process.stderr.write(`${declaration.name}: invalid params for ${spec.id}: ${problems}\n`);
    process.exit(2);
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const ctx: StageContext<P> = {
    id: spec.id,
    params: params as P,
    options: spec.options,
    inputs: spec.inputs,
    outputs: spec.outputs,
    metrics: spec.metrics,
    plots: spec.plots,
    stageCache: spec.stageCache,
    log: (message) => process.stderr.write(message + '\n'),
    progress: withEta((data) => process.stdout.write(progressLine(data))),
    signal: controller.signal,
  };
  try {
    await stage.run(ctx);
  } catch (error) {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`${declaration.name}: ${error instanceof StageError ? error.message : (error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  }
  // Worker threads (wasm backends) would otherwise keep the process alive.
  process.exit(0);
}
