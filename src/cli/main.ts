import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { UserError } from '../errors.js';
import { collectGarbage, verifyCache } from '../store/maintenance.js';
import { definitionOf } from '../fingerprint.js';
import { schemaPath, specSchema } from '../spec/schema.js';
import { toDot, toMermaid, toTextTree } from '../ui/dag-format.js';
import { dim, formatBytes, green, red } from '../ui/format.js';

import { executorNames } from '../executors/registry.js';
import type { InitOptions } from './init-command.js';
import type { SummaryCheck } from '../run/noop-check.js';
import { registerCompareCommands } from './compare-commands.js';
import { registerDaemonCommand } from './daemon-command.js';
import { registerPlotsCommand } from './plots-command.js';
import { collect, nonNegativeNumber, open, positiveInt, type Common, type Resident } from './common.js';
import { runCommand, statusCommand, type RunFlags } from './run-command.js';
import { transfer } from './transfer-command.js';
import { remoteGc } from './remote-gc-command.js';
import { watchCommand } from './watch-command.js';

/** This package's version, from its own package.json (wherever it is installed). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string }).version;
}

/**
 * `checked`: the no-op check `bin/pipeline.js` made before loading this (see noop-check.ts);
 * `resident`: what the daemon keeps between runs (see src/daemon/).
 */
export async function main(argv: string[], checked?: SummaryCheck, resident?: Resident): Promise<number> {
  const program = new Command('pipeline')
    .description('Content-hashed DAG builds for ML experiments')
    .version(packageVersion(), '-V, --version', 'print the version of pipeline')
    .option('-f, --file <path>', 'the pipeline spec', 'pipeline.yaml')
    .showHelpAfterError()
    .exitOverride();

  let exitCode = 0;
  // DVC users: a dvc.yaml where there is no pipeline.yaml is the spec.
  program.hook('preAction', () => {
    const file = program.opts<Common>().file;
    if (file === 'pipeline.yaml' && !existsSync(file) && existsSync('dvc.yaml')) program.setOptionValue('file', 'dvc.yaml');
  });

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
    .addOption(new Option('--executor <name>', 'where stages run (default: pipeline.yaml executor:, else local)').choices(executorNames()))
    .option('--pull', 'pull what the locked keys need from the remote before deciding what to run')
    .option('--push', 'push what this run produced (and restored) to the remote afterwards')
    .option('--frozen', 'CI: execute nothing; restore every out from the cache and fail if any stage would run or the lock does not match the spec')
    .option('--no-wait', 'refuse instead of waiting when another run holds this project')
    .option('-v, --verbose', 'also list up-to-date and restored stages')
    .action(async (targets: string[], options: RunFlags) => {
      exitCode = await runCommand(targets, { ...program.opts<Common>(), ...options }, checked, resident);
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
    .option('--json', 'each instance as it resolved: cmd or built-in and with:, wdir, deps, outs and their options, params, frozen, upstream')
    .action(async (targets: string[], options: { mermaid?: boolean; dot?: boolean; json?: boolean }) => {
      const ws = open(program.opts<Common>());
      const selected = ws.graph.select(targets);
      if (options.json) {
        const { resolvedStage } = await import('../ui/resolved-stage.js');
        process.stdout.write(JSON.stringify(ws.graph.order.filter((i) => selected.has(i.id)).map((i) => resolvedStage(i, ws.graph)), null, 1) + '\n');
        return;
      }
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
    .command('init')
    .description('start a study here: pipeline.yaml, configs/ and .gitignore, on your images (--images) or the bundled demo')
    .option('--images <path>', 'a folder <class>/[<source>/]*.jpg, or a CSV path,label[,source,group]')
    .option('--positive <class>', 'the class to detect (label 1) of the two')
    .option('--facecrop', 'add a face-crop stage and an experiment trained on the crops')
    .option('--trainer <name>', 'tfjs: the built-in trainer; pytorch: also a train.py of your own (torchvision models) run on the same folds', 'tfjs')
    .option('--force', 'overwrite files that exist')
    .action(async (options: InitOptions) => {
      exitCode = (await import('./init-command.js')).initCommand(options);
    });

  registerCompareCommands(program, (code) => (exitCode = code));
  registerPlotsCommand(program);

  program
    .command('stages')
    .description('the built-in stages: their named inputs (deps:), outputs (outs:) and options (with:)')
    .action(async () => {
      exitCode = (await import('./stages-command.js')).stagesCommand();
    });

  program
    .command('schema')
    .description('print the JSON schema of pipeline.yaml, built-in stages and registered executors included (editors: yaml-language-server)')
    .action(() => {
      process.stdout.write(JSON.stringify(specSchema(), null, 2) + '\n');
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
    .addOption(new Option('--executor <name>', 'where stages run, as for run').choices(executorNames()))
    .action(async (targets: string[], options: { jobs: number; gpus?: string; setParam?: string[]; debounce: number; json?: boolean; executor?: string }) => {
      exitCode = await watchCommand(targets, { ...program.opts<Common>(), ...options });
    });

  registerDaemonCommand(program, (code) => (exitCode = code));

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
    .option('--remote', 'prune the remote instead: the same rule, plus what interrupted pushes left there')
    .option('--grace <minutes>', 'with --remote: keep unreferenced objects and partial uploads younger than this (a push in progress elsewhere)', (v) => nonNegativeNumber(v), 60)
    .action(async (options: { keepLast: number; dryRun?: boolean; remote?: boolean; grace: number }) => {
      const ws = open(program.opts<Common>());
      const verb = options.dryRun ? 'would remove' : 'removed';
      if (options.remote) {
        try {
          exitCode = await remoteGc(ws, { keepLast: options.keepLast, dryRun: Boolean(options.dryRun), graceMs: options.grace * 60_000 }, verb);
        } finally {
          await ws.close();
        }
        return;
      }
      const report = collectGarbage(ws.store, ws.runs, ws.lock, { keepLast: options.keepLast, dryRun: Boolean(options.dryRun) });
      await ws.close();
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
