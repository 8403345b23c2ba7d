import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../../src/fs-atomic.js';
import { parseProgressLine, PROGRESS_PREFIX } from '../../../src/protocol/stage-protocol.js';
import { shellQuote } from '../../../src/spec/interpolate.js';
import { safeName } from '../../../src/paths.js';
import type { Task } from '../../runtime/dataset-task.js';
import { openFold, type FoldDataParams } from '../../runtime/fold-data.js';
import { csvField, samplePath, type Sample } from '../../runtime/manifest.js';
import { StageError, type BuiltinStage, type StageContext } from '../../runtime/stage.js';
import { declaration } from '../declaration.js';
import { checkRunFolder } from './run-check.js';
import type { Runner } from './declaration.js';
import { TRAINER_PROTOCOL, type TrainerSpec } from './trainer-spec.js';

/** The stdlib-only helper that ships in the package (python/pipeline_train.py), on the script's PYTHONPATH. */
const helperDir = fileURLToPath(new URL('../../../../python/', import.meta.url));
/** Lines of the script's output an error shows. */
const TAIL = 25;

interface ScriptParams {
  task?: Task;
  data?: Partial<FoldDataParams>;
  [key: string]: unknown;
}

function listCsv(dir: string, set: readonly Sample[], fit: (s: Sample) => string): string {
  const rows = set.map((s) => [s.path, path.relative(process.cwd(), samplePath(dir, s)), s.label, s.source, s.group, fit(s)].map((v) => csvField(v)).join(','));
  return ['id,file,label,source,group,fit', ...rows].join('\n') + '\n';
}

/**
 * `uses: train` with `with: { runner, script }`: the researcher's trainer gets the fold's files
 * and a typed spec (trainer-spec.ts), runs as a child process whose `::progress` lines reach the
 * engine, and its run folder is checked (run-check.ts) before the stage may succeed.
 */
export const scriptTrainer: BuiltinStage<ScriptParams> = {
  declaration,
  async run(ctx) {
    const data: FoldDataParams = { input: 'raw', fraction: 1, eval_geometry: 'same', ...ctx.params.data };
    // The script protocol (docs/trainer-protocol.md) hands a script one target's labels.
    if (data.targets) throw new StageError('data.targets: a runner: script trains one target (data.target); several targets in one network are the built-in trainer\'s (leave runner: out)');
    const fold = openFold(ctx, 'train', data, ctx.params.task);
    const work = path.join(ctx.stageCache, 'runner', safeName(ctx.id));
    mkdirSync(work, { recursive: true });
    const spec: TrainerSpec = {
      protocol: TRAINER_PROTOCOL,
      id: ctx.id,
      fold: fold.fold,
      task: fold.targets.task,
      classes: fold.targets.classNames,
      target: data.target ?? 'label',
      params: ctx.params,
      options: ctx.options,
      inputs: ctx.inputs,
      run_dir: ctx.outputs.run,
      train_list: path.join(work, 'train.csv'),
      val_list: path.join(work, 'val.csv'),
      n_train: fold.trainSet.length,
      n_val: fold.valSet.length,
      progress_prefix: PROGRESS_PREFIX,
    };
    writeFileAtomic(spec.train_list, listCsv(fold.dataDir, fold.trainSet, () => 'fill'));
    writeFileAtomic(spec.val_list, listCsv(fold.dataDir, fold.valSet, fold.valFit));
    const specFile = path.join(work, 'spec.json');
    writeFileAtomic(specFile, JSON.stringify(spec, null, 1) + '\n');
    rmSync(ctx.outputs.run, { recursive: true, force: true });
    mkdirSync(ctx.outputs.run, { recursive: true });

    const [command, ...args] = commandLine(ctx.options, specFile);
    const rerun = `cd ${shellQuote(process.cwd())} && ${[command, ...args].map(shellQuote).join(' ')}`;
    ctx.log(`train: ${rerun}`);
    const code = await runScript(command, args, specFile, ctx);
    if (ctx.signal.aborted) return;
    if (code.status !== 0) {
      throw new StageError(`${String(ctx.options.script)} ${code.status === null ? `was killed by ${code.signal}` : `exited with code ${code.status}`}; its last lines:\n${code.tail.map((l) => `  | ${l}`).join('\n')}\nrerun it alone: ${rerun}`);
    }
    const problems = checkRunFolder(ctx.outputs.run, { fold: fold.fold, targets: fold.targets, trainSet: fold.trainSet, valSet: fold.valSet });
    if (problems.length) {
      throw new StageError(`${String(ctx.options.script)} exited 0, but its run folder ${ctx.outputs.run} is not one aggregate and report can read:\n${problems.map((p) => `  - ${p}`).join('\n')}\nrerun it alone: ${rerun}`);
    }
    ctx.log(`train: ${ctx.outputs.run} checked (${fold.valSet.length} validation and ${fold.trainSet.length} training predictions, metrics.json agrees)`);
  },
};

function commandLine(options: Record<string, unknown>, specFile: string): string[] {
  const script = String(options.script);
  const runner = options.runner as Runner;
  if (runner === 'python') return [String(options.python ?? 'python3'), '-u', script, specFile];
  return [path.resolve(script), specFile];
}

function runScript(command: string, args: string[], specFile: string, ctx: StageContext<ScriptParams>): Promise<{ status: number | null; signal: NodeJS.Signals | null; tail: string[] }> {
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > TAIL) tail.shift();
  };
  return new Promise((resolve, reject) => {
    const pythonPath = [helperDir, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONPATH: pythonPath, PIPELINE_TRAINER_SPEC: specFile, PYTHONUNBUFFERED: '1' } });
    const stop = () => child.kill('SIGTERM');
    ctx.signal.addEventListener('abort', stop, { once: true });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const progress = parseProgressLine(line);
      if (progress) return ctx.progress(progress);
      keep(line);
      ctx.log(line);
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      keep(line);
      ctx.log(line);
    });
    child.on('error', (error) => {
      const hint = (error as NodeJS.ErrnoException).code === 'ENOENT' ? ` (${command} is not on PATH${command === 'python3' ? '; with: { python: .venv/bin/python } names another interpreter' : ''})` : '';
      reject(new StageError(`could not start ${command}: ${error.message}${hint}`));
    });
    child.on('close', (status, signal) => {
      ctx.signal.removeEventListener('abort', stop);
      writeFileSync(path.join(path.dirname(specFile), 'last-output.txt'), tail.join('\n') + '\n');
      resolve({ status, signal, tail });
    });
  });
}
