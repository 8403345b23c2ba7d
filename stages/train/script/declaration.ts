import type { StageVariant } from '../../../src/protocol/stage-protocol.js';
import { foldDataProperties } from '../../runtime/trainer-ports.js';

/** The interpreters `with: { runner }` names; `executable` runs the script itself (its #! line: R, Julia, a binary). */
export const RUNNERS = ['python', 'executable'] as const;
export type Runner = (typeof RUNNERS)[number];

/** `with:` of `uses: train` beside `fold` when the researcher's own script trains (docs/trainer-protocol.md). */
export const runnerOptions: Record<string, Record<string, unknown>> = {
  runner: { enum: [...RUNNERS], description: "train with your own script instead of the built-in: python (run with `python`, default python3) or executable (run as it is, by its #! line); docs/trainer-protocol.md" },
  script: { type: 'string', minLength: 1, description: 'the trainer script, relative to the project (a dep: editing it retrains)' },
  python: { type: 'string', minLength: 1, description: 'runner: python: the interpreter (default python3 on PATH, e.g. .venv/bin/python)' },
};

/**
 * `uses: train` with `with: { runner, script }`: the same stage (inputs, outputs, options, the
 * fold's files) run by the researcher's script. Its params are the script's own: only `data:`,
 * which selects the fold's images, is read here; every other key is the script's to define.
 */
export const scriptVariant: StageVariant = {
  version: 'script-1',
  description: "the researcher's own trainer script for one experiment x fold, checked on exit",
  entry: 'train/script/main.js',
  paramPaths: { 'model.weights': "the backbone's pretrained weights" },
  optionPaths: { script: 'the trainer script' },
  params: {
    type: 'object',
    additionalProperties: true,
    properties: {
      seed: { type: 'integer' },
      task: { enum: ['binary', 'multiclass', 'regression'], description: "overrides the task the dataset's labels (or data.target) imply" },
      data: { type: 'object', additionalProperties: true, properties: { ...foldDataProperties } },
    },
  },
};
