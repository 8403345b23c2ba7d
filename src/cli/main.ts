import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import jsYaml from 'js-yaml';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { UserError } from '../errors.js';
import { collectGarbage, verifyCache } from '../cache/maintenance.js';
import { resolveRemote } from '../cache/remote-config.js';
import { pull, push } from '../cache/transfer.js';
import { definitionOf } from '../fingerprint.js';
import { writeSummary, unchangedSinceSummary } from '../run/noop-summary.js';
import { frozenViolations, plan } from '../run/planner.js';
import { ProjectLock } from '../run/project-lock.js';
import { Runner, type Outcome } from '../run/runner.js';
import type { Reporter } from '../run/events.js';
import type { Executor } from '../run/executor.js';
import type { ExecutorName, StageInstance } from '../spec/model.js';
import { Workspace } from '../run/workspace.js';
import { loadProject } from '../spec/load.js';
import { schemaPath } from '../spec/schema.js';
import { toDot, toMermaid, toTextTree } from '../ui/dag-format.js';
import { bold, dim, formatBytes, green, red, yellow } from '../ui/format.js';
import { JsonReporter, PlainReporter } from '../ui/reporters.js';
import { transferProgress } from '../ui/transfer-progress.js';

interface Common {
  file: string;
  setParam?: string[];
}

function open(options: Common): Workspace {
  const project = loadProject({ specFile: options.file, overrides: options.setParam });
  return new Workspace(project);
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--jobs ${value}: expected a whole number >= 1`);
  return n;
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('pipeline')
    .description('Content-hashed DAG builds for ML experiments')
    .option('-f, --file <path>', 'the pipeline spec', 'pipeline.yaml')
    .showHelpAfterError()
    .exitOverride();

  let exitCode = 0;

  program
    .command('run')
    .description('build TARGETs (stage names, instance ids such as train@exp=a,fold=0, or globs) and everything upstream')
    .argument('[targets...]', 'what to build; everything when none')
    .option('-j, --jobs <n>', 'stages to run at once', positiveInt, availableParallelism())
    .option('--gpus <ids>', 'GPU ids to hand out to stages with resources.gpu (e.g. 0,1)')
    .option('-n, --dry-run', 'print the plan (run / restore / up-to-date, and why) and run nothing')
    .option('--force', 'run the selected stages even if they are up to date')
    .option('-k, --keep-going', 'after a failure, keep running branches that do not depend on it')
    .addOption(new Option('-S, --set-param <key=value>', 'override a param for this run (repeatable)').argParser(collect))
    .option('--json', 'print one JSON event per line')
    .addOption(new Option('--executor <name>', 'where stages run (default: pipeline.yaml executor:, else local)').choices(['local', 'slurm']))
    .option('--pull', 'pull what the locked keys need from the remote before deciding what to run')
    .option('--push', 'push what this run produced (and restored) to the remote afterwards')
    .option('--frozen', 'CI: execute nothing; restore every out from the cache and fail if any stage would run or the lock does not match the spec')
    .option('--no-wait', 'refuse instead of waiting when another run holds this project')
    .option('-v, --verbose', 'also list up-to-date and restored stages')
    .action(async (targets: string[], options: RunFlags) => {
      exitCode = await runCommand(targets, { ...program.opts<Common>(), ...options });
    });

  program
    .command('status')
    .description('list stale stages and why they are stale')
    .argument('[targets...]')
    .addOption(new Option('-S, --set-param <key=value>', 'as for run').argParser(collect))
    .option('--json', 'machine-readable output')
    .action(async (targets: string[], options: { setParam?: string[]; json?: boolean }) => {
      exitCode = await statusCommand(targets, { ...program.opts<Common>(), ...options });
    });

  program
    .command('dag')
    .description('print the stage graph (a tree on the terminal; --mermaid or --dot for documents)')
    .argument('[targets...]')
    .option('--mermaid', 'Mermaid flowchart')
    .option('--dot', 'Graphviz dot')
    .action((targets: string[], options: { mermaid?: boolean; dot?: boolean }) => {
      const ws = open(program.opts<Common>());
      const selected = ws.graph.select(targets);
      process.stdout.write(options.dot ? toDot(ws.graph, selected) : options.mermaid ? toMermaid(ws.graph, selected) : toTextTree(ws.graph, selected));
    });

  program
    .command('validate')
    .description(`check the spec against the schema (${'schema/pipeline.schema.json'}) and the graph rules`)
    .action(() => {
      const ws = open(program.opts<Common>());
      for (const instance of ws.project.instances) definitionOf(instance);
      const { project } = ws;
      process.stdout.write(
        `${green('✓')} ${project.specFile} is valid: ${project.stageNames.length} stages, ${project.instances.length} stage instances\n${dim(`  schema: ${schemaPath}`)}\n`,
      );
    });

  program
    .command('watch')
    .description('build TARGETs, then rebuild what each save makes stale (running stages whose key is unchanged are never restarted)')
    .argument('[targets...]')
    .option('-j, --jobs <n>', 'stages to run at once', positiveInt, availableParallelism())
    .option('--gpus <ids>', 'GPU ids for stages with resources.gpu')
    .addOption(new Option('-S, --set-param <key=value>', 'as for run').argParser(collect))
    .option('--debounce <ms>', 'quiet time after a save before rebuilding', (v) => positiveInt(v), 150)
    .option('--json', 'one JSON event per line (with a timestamp)')
    .action(async (targets: string[], options: { jobs: number; gpus?: string; setParam?: string[]; debounce: number; json?: boolean }) => {
      exitCode = await watchCommand(targets, { ...program.opts<Common>(), ...options });
    });

  const cache = program.command('cache').description('the content-addressed cache: share it, prune it, check it');
  for (const verb of ['push', 'pull'] as const) {
    cache
      .command(verb)
      .description(verb === 'push' ? 'upload the run records and objects that the targets\' locked keys need' : 'download them (verified by hash on arrival)')
      .argument('[targets...]')
      .action(async (targets: string[]) => {
        const ws = open(program.opts<Common>());
        exitCode = await transfer(verb, ws, ws.graph.select(targets));
        await ws.close();
      });
  }
  cache
    .command('gc')
    .description('remove run records and objects that pipeline.lock and the last N runs of each stage do not reference')
    .option('--keep-last <n>', 'runs to keep per stage instance besides the locked one', (v) => positiveInt(v), 3)
    .option('-n, --dry-run', 'say what would be removed')
    .action(async (options: { keepLast: number; dryRun?: boolean }) => {
      const ws = open(program.opts<Common>());
      const report = collectGarbage(ws.store, ws.runs, ws.lock, { keepLast: options.keepLast, dryRun: Boolean(options.dryRun) });
      await ws.close();
      const verb = options.dryRun ? 'would remove' : 'removed';
      process.stdout.write(
        `${verb} ${report.removedRuns.length} run records and ${report.removedObjects.length} objects (${formatBytes(report.removedBytes)}); kept ${report.keptRuns} run records, ${report.keptObjects} objects\n`,
      );
    });
  cache
    .command('verify')
    .description('re-hash every object; move corrupt ones to cache/quarantine/')
    .action(async () => {
      const ws = open(program.opts<Common>());
      const report = verifyCache(ws.store, ws.runs);
      await ws.close();
      for (const hash of report.corrupt) process.stdout.write(`${red('corrupt')} ${hash} (moved to cache/quarantine/)\n`);
      if (report.incompleteRuns.length) process.stdout.write(dim(`${report.incompleteRuns.length} run records lost an object; those stages will run again instead of restoring\n`));
      process.stdout.write(`${report.corrupt.length ? red('✗') : green('✓')} checked ${report.checked} objects, ${report.corrupt.length} corrupt\n`);
      exitCode = report.corrupt.length ? 1 : 0;
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof UserError) {
      process.stderr.write(`${red('error:')} ${error.format()}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

interface RunFlags {
  jobs: number;
  gpus?: string;
  dryRun?: boolean;
  force?: boolean;
  keepGoing?: boolean;
  frozen?: boolean;
  pull?: boolean;
  push?: boolean;
  executor?: ExecutorName;
  setParam?: string[];
  json?: boolean;
  wait: boolean;
  verbose?: boolean;
}

async function runCommand(targets: string[], options: Common & RunFlags): Promise<number> {
  const fullRun = targets.length === 0 && !options.setParam?.length && !options.force && !options.dryRun && !options.pull && !options.push;
  if (fullRun) {
    const started = Date.now();
    const ids = unchangedSinceSummary(path.dirname(path.resolve(options.file)));
    if (ids) {
      if (options.json) {
        for (const id of ids) process.stdout.write(JSON.stringify({ event: 'skipped', stage: id, reason: 'up-to-date' }) + '\n');
        process.stdout.write(JSON.stringify({ event: 'done', ok: true, ran: 0, restored: 0, up_to_date: ids.length, failed: 0, duration_ms: Date.now() - started }) + '\n');
      } else {
        process.stderr.write(`${green('done')}: everything is up to date (${ids.length} stage instances, nothing changed since the last full run) ${dim(`in ${((Date.now() - started) / 1000).toFixed(1)}s`)}\n`);
      }
      return 0;
    }
  }
  const ws = open(options);
  const selected = ws.graph.select(targets);
  if (options.pull) {
    const code = await transfer('pull', ws, selected);
    if (code !== 0 && !options.frozen) process.stderr.write(dim('continuing: what could not be pulled will run\n'));
  }
  if (options.frozen) {
    if (options.force) throw new UserError('--frozen and --force contradict each other: --frozen executes nothing');
    const violations = frozenViolations(await plan(ws, selected));
    if (violations.length) {
      await ws.close();
      if (options.json) {
        process.stdout.write(JSON.stringify({ event: 'frozen-violations', stages: violations.map((v) => ({ stage: v.id, reasons: v.reasons })) }) + '\n');
      }
      process.stderr.write(`${red('error:')} --frozen: ${violations.length} stage(s) would have to run or do not match pipeline.lock:\n`);
      for (const v of violations) process.stderr.write(`  ${bold(v.id)}: ${v.reasons.join('; ')}\n`);
      process.stderr.write(dim('  run `pipeline run` (without --frozen) and commit pipeline.lock, or restore the cache that built it\n'));
      return 1;
    }
  }
  if (options.dryRun) {
    const planned = await plan(ws, selected, options.force);
    await ws.close();
    if (options.json) {
      process.stdout.write(JSON.stringify({ event: 'plan', stages: planned.map((p) => ({ stage: p.id, action: p.action, reasons: p.reasons })) }) + '\n');
      return 0;
    }
    const width = Math.max(...planned.map((p) => p.id.length), 5);
    for (const p of planned) {
      const action = p.action === 'run' ? yellow('run       ') : p.action === 'restore' ? green('restore   ') : dim('up-to-date');
      process.stdout.write(`${action}  ${p.id.padEnd(width)}  ${dim(p.reasons.join('; '))}${p.provisional ? dim(' (may be skipped if its outs come out identical)') : ''}\n`);
    }
    return 0;
  }

  // The terminal UI and process library load only when a run needs them: start-up is part of every no-op.
  const reporter: Reporter = options.json
    ? new JsonReporter()
    : process.stderr.isTTY
      ? new (await import('../ui/tty-reporter.js')).TtyReporter()
      : new PlainReporter(options.verbose);
  const lock = new ProjectLock(ws.project.dir);
  let waited = false;
  await lock.acquire({
    wait: options.wait,
    onWait: (holder) => {
      waited = true;
      reporter.emit({ event: 'waiting', holder });
    },
  });
  // The run we waited for changed the lock file and outs: read them afresh.
  const fresh = waited ? open(options) : ws;
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      if (!options.json) process.stderr.write(`\n${yellow('stopping:')} cancelling running stages; finished ones are kept (Ctrl-C again to quit at once)\n`);
      controller.abort();
    } else {
      fresh.lock.flush();
      lock.release();
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = Date.now();
  let outcomes: Map<string, Outcome>;
  let runner: Runner | undefined;
  try {
    const gpus = options.gpus?.split(',').map((s) => s.trim()).filter(Boolean);
    runner = new Runner(fresh, await executorChooser(fresh, options.executor), reporter, {
      jobs: options.jobs,
      ...(gpus?.length ? { gpus } : {}),
      force: Boolean(options.force),
      keepGoing: Boolean(options.keepGoing),
      frozen: Boolean(options.frozen),
      signal: controller.signal,
    });
    outcomes = await runner.run(fresh.graph.select(targets));
  } finally {
    try {
      await fresh.close();
    } finally {
      lock.release();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      reporter.end();
    }
  }
  if (runner.fatal) throw runner.fatal;
  const count = (o: Outcome) => [...outcomes.values()].filter((v) => v === o).length;
  const failed = count('failed');
  if (fullRun && failed + count('blocked') + count('cancelled') === 0 && outcomes.size === fresh.project.instances.length) writeSummary(fresh);
  const summary = { ran: count('ran'), restored: count('restored'), up_to_date: count('up-to-date'), failed, duration_ms: Date.now() - started };
  const ok = failed === 0 && count('cancelled') === 0 && count('blocked') === 0;
  if (options.json) {
    process.stdout.write(JSON.stringify({ event: 'done', ok, ...summary }) + '\n');
  } else {
    const parts = [`${summary.ran} ran`, `${summary.restored} restored`, `${summary.up_to_date} up to date`];
    if (failed) parts.push(red(`${failed} failed`));
    if (count('blocked')) parts.push(yellow(`${count('blocked')} not run`));
    if (count('cancelled')) parts.push(yellow(`${count('cancelled')} cancelled`));
    process.stderr.write(`${ok ? green('done') : red('stopped')}: ${parts.join(', ')} ${dim(`in ${((Date.now() - started) / 1000).toFixed(1)}s`)}\n`);
  }
  if (controller.signal.aborted && interrupts > 0) return 130;
  if (options.push && ok) {
    const pushed = open(options);
    const code = await transfer('push', pushed, pushed.graph.select(targets));
    await pushed.close();
    if (code !== 0) return code;
  }
  return ok ? 0 : 1;
}

async function statusCommand(targets: string[], options: Common & { json?: boolean }): Promise<number> {
  const ws = open(options);
  const planned = await plan(ws, ws.graph.select(targets));
  await ws.close();
  const stale = planned.filter((p) => p.action !== 'up-to-date');
  if (options.json) {
    process.stdout.write(JSON.stringify(planned.map((p) => ({ stage: p.id, stale: p.action !== 'up-to-date', action: p.action, reasons: p.reasons }))) + '\n');
    return 0;
  }
  for (const p of stale) {
    const how = p.action === 'restore' ? dim(' [restorable from cache]') : '';
    process.stdout.write(`${bold(p.id)}: ${p.reasons.join('; ')}${how}\n`);
  }
  const fresh = planned.length - stale.length;
  process.stdout.write(stale.length === 0 ? `${green('✓')} everything is up to date (${fresh} stage instances)\n` : dim(`${stale.length} stale, ${fresh} up to date\n`));
  return 0;
}

async function transfer(verb: 'push' | 'pull', ws: Workspace, selected: Set<string>): Promise<number> {
  const remote = resolveRemote(ws.project);
  const keys = [...selected].map((id) => ws.lock.get(id)?.key).filter((k): k is string => k !== undefined);
  const unlocked = [...selected].filter((id) => !ws.lock.get(id));
  const progress = transferProgress(verb);
  const started = Date.now();
  let report;
  try {
    report = await (verb === 'push' ? push : pull)(ws.store, ws.runs, remote, keys, progress);
  } finally {
    progress.end();
    remote.close();
  }
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(
    `${verb}: ${report.runs} run records, ${report.objects} objects (${formatBytes(report.bytes)}, ${formatBytes(report.bytes / Math.max(seconds, 1e-3))}/s) moved, ${report.present} already there ${dim(`· ${remote.url}`)}\n`,
  );
  if (unlocked.length) process.stderr.write(dim(`${unlocked.length} stage instances are not in pipeline.lock yet (never run): nothing to ${verb} for them\n`));
  if (report.missing.length) process.stderr.write(yellow(`${report.missing.length} run records ${verb === 'push' ? 'are not in the local cache' : 'are not (completely) on the remote'}\n`));
  if (report.corrupt.length) process.stderr.write(red(`${report.corrupt.length} downloads did not match their hash and were discarded: ${report.corrupt.join(', ')}\n`));
  for (const refusal of report.refused) process.stderr.write(`${red('refused:')} ${refusal}; nothing of it was written, its stage will run instead\n`);
  return report.corrupt.length || report.refused.length ? 1 : 0;
}

async function watchCommand(targets: string[], options: Common & { jobs: number; gpus?: string; setParam?: string[]; debounce: number; json?: boolean }): Promise<number> {
  const { WatchSession } = await import('../watch/watch-session.js');
  const reporters = await import('../watch/watch-reporter.js');
  const reporter = options.json ? new reporters.JsonWatchReporter() : process.stderr.isTTY ? new reporters.TtyWatchReporter() : new reporters.PlainWatchReporter();
  const projectLock = new ProjectLock(path.dirname(path.resolve(options.file)));
  await projectLock.acquire({ wait: true, onWait: (holder) => reporter.emit({ event: 'waiting', holder }) });
  const gpus = options.gpus?.split(',').map((s) => s.trim()).filter(Boolean);
  const session = new WatchSession(
    { specFile: options.file, targets, jobs: options.jobs, ...(gpus?.length ? { gpus } : {}), ...(options.setParam ? { setParam: options.setParam } : {}), debounceMs: options.debounce },
    reporter,
  );
  await session.start();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await session.stop();
  reporter.end();
  projectLock.release();
  return 0;
}

/**
 * The executor for each instance: the stage's own `executor:`, else `--executor`, else
 * .pipeline/config.yaml, else pipeline.yaml, else local. Executors load only when used.
 */
async function executorChooser(ws: Workspace, flag: ExecutorName | undefined): Promise<(instance: StageInstance) => Executor> {
  const fallback = flag ?? localExecutorSetting(ws.project.dir) ?? ws.project.executor ?? 'local';
  const { LocalExecutor } = await import('../run/local-executor.js');
  const local = new LocalExecutor();
  const needsSlurm = fallback === 'slurm' || ws.project.instances.some((i) => i.executor === 'slurm');
  const slurm = needsSlurm ? new (await import('../run/slurm-executor.js')).SlurmExecutor(path.join(ws.cacheDir, 'tmp', 'slurm')) : undefined;
  return (instance) => ((instance.executor ?? fallback) === 'slurm' ? slurm! : local);
}

function localExecutorSetting(projectDir: string): ExecutorName | undefined {
  try {
    const data = jsYaml.load(readFileSync(path.join(projectDir, '.pipeline', 'config.yaml'), 'utf8'), { schema: jsYaml.CORE_SCHEMA }) as { executor?: string } | null;
    if (data?.executor === undefined) return undefined;
    if (data.executor !== 'local' && data.executor !== 'slurm') throw new UserError(`executor must be local or slurm (got ${data.executor})`, { file: '.pipeline/config.yaml' });
    return data.executor;
  } catch (error) {
    if (error instanceof UserError) throw error;
    return undefined;
  }
}
