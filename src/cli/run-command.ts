import type { ResolvedStage } from '../ui/resolved-stage.js';
import { UserError } from '../errors.js';
import { checkSinceSummary, reportUpToDate, type SummaryCheck } from '../run/noop-check.js';
import type { Unchanged } from '../hash/content-hasher.js';
import { writeSummary } from '../run/noop-summary.js';
import { frozenViolations, plan } from '../run/planner.js';
import { ProjectLock } from '../run/project-lock.js';
import { Runner, type Outcome } from '../run/runner.js';
import type { Reporter } from '../run/events.js';
import { executorChooser } from '../session/session.js';
import { bold, dim, green, red, yellow } from '../ui/format.js';
import { JsonReporter, PlainReporter } from '../ui/reporters.js';

import { open, warned, type Common, type Resident } from './common.js';
import { transfer } from './transfer-command.js';

export interface RunFlags {
  jobs: number;
  gpus?: string;
  dryRun?: boolean;
  force?: boolean;
  keepGoing?: boolean;
  frozen?: boolean;
  pull?: boolean;
  push?: boolean;
  executor?: string;
  setParam?: string[];
  json?: boolean;
  wait: boolean;
  verbose?: boolean;
}

/** `checked`: the no-op check, when the command line's fast path already made it. */
export async function runCommand(targets: string[], options: Common & RunFlags, checked?: SummaryCheck, resident?: Resident): Promise<number> {
  const fullRun = targets.length === 0 && !options.setParam?.length && !options.force && !options.dryRun && !options.pull && !options.push;
  let known: Unchanged | undefined;
  if (fullRun) {
    const started = Date.now();
    const check = checked ?? (await checkSinceSummary(options.file));
    if (check.upToDate) {
      reportUpToDate(check.upToDate, Boolean(options.json), started);
      return 0;
    }
    known = check.known;
  }
  const ws = resident ? warned(resident.open(options, known)) : open(options, known);
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
    const { resolvedStage } = await import('../ui/resolved-stage.js');
    if (options.json) {
      const stages = planned.map((p) => ({ stage: p.id, action: p.action, reasons: p.reasons, resolved: resolvedStage(ws.project.byId.get(p.id)!, ws.graph) }));
      process.stdout.write(JSON.stringify({ event: 'plan', stages }) + '\n');
      return 0;
    }
    const width = Math.max(...planned.map((p) => p.id.length), 5);
    for (const p of planned) {
      const action = p.action === 'run' ? yellow('run       ') : p.action === 'restore' ? green('restore   ') : p.action === 'deferred' ? yellow('deferred  ') : dim('up-to-date');
      process.stdout.write(`${action}  ${p.id.padEnd(width)}  ${dim(p.reasons.join('; '))}${p.provisional ? dim(' (may be skipped if its outs come out identical)') : ''}\n`);
      // Snakemake's -n -p: what would run, as it would run.
      if (p.action === 'run') for (const line of commandLines(resolvedStage(ws.project.byId.get(p.id)!, ws.graph))) process.stdout.write(`    ${line}\n`);
    }
    return 0;
  }

  // The terminal UI and process library load only when a run needs them: start-up is part of every no-op.
  const reporter: Reporter = options.json
    ? new JsonReporter()
    : process.stderr.isTTY
      ? new (await import('../ui/tty-reporter.js')).TtyReporter()
      : new PlainReporter(options.verbose);
  const lock = new ProjectLock(ws.project.specDir);
  let waited = false;
  await lock.acquire({
    wait: options.wait,
    onWait: (holder) => {
      waited = true;
      reporter.emit({ event: 'waiting', holder });
    },
  });
  // The run we waited for changed the lock file and outs: read them afresh.
  let fresh = waited ? open(options) : ws;
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
  let outcomes: Map<string, Outcome> | undefined;
  let runner: Runner | undefined;
  let statCacheSaved = false;
  /** What the run leaves for the next command besides pipeline.lock: the stat cache and the lock's mirror. */
  const saveState = async (): Promise<boolean> => {
    try {
      const saved = await fresh.close();
      resident?.closed(fresh);
      return saved;
    } finally {
      lock.release();
    }
  };
  // Only over a saved stat cache: a later run takes unchanged folders' hashes from it.
  const summaryWanted = (saved: boolean): boolean => {
    if (!fullRun || !saved || !runner || runner.fatal || !outcomes) return false;
    const all = [...outcomes.values()];
    return all.length === fresh.project.instances.length && all.every((o) => o === 'ran' || o === 'restored' || o === 'up-to-date');
  };
  let deferred = false;
  /** What earlier rounds ran or restored (a round re-plans after `from:` files were written). */
  const earlier = { ran: 0, restored: 0 };
  let rounds = 1;
  try {
    const gpus = options.gpus?.split(',').map((s) => s.trim()).filter(Boolean);
    const newRunner = () =>
      new Runner(fresh, executorChooser(fresh, options.executor), reporter, {
        jobs: options.jobs,
        ...(gpus?.length ? { gpus } : {}),
        force: Boolean(options.force),
        keepGoing: Boolean(options.keepGoing),
        frozen: Boolean(options.frozen),
        signal: controller.signal,
      });
    runner = newRunner();
    outcomes = await runner.run(fresh.graph.select(targets));
    // Snakemake's checkpoints: instances listed from a file this round wrote are planned afresh,
    // round after round, until none waits (a search's rungs: one round each).
    for (;;) {
      const values = [...outcomes.values()];
      const waiting = values.filter((o) => o === 'deferred').length;
      const progressed = values.some((o) => o === 'ran' || o === 'restored');
      if (waiting === 0 || !progressed || runner.fatal || controller.signal.aborted || values.some((o) => o === 'failed' || o === 'cancelled' || o === 'blocked')) break;
      reporter.emit({ event: 'replan', round: rounds, deferred: waiting });
      earlier.ran += values.filter((o) => o === 'ran').length;
      earlier.restored += values.filter((o) => o === 'restored').length;
      fresh.lock.flush();
      await fresh.close();
      resident?.closed(fresh);
      fresh = open(options);
      rounds++;
      runner = newRunner();
      outcomes = await runner.run(fresh.graph.select(targets));
    }
    if (resident) {
      // A daemon answers once pipeline.lock is written; the rest is saved after the answer
      // (the next request waits for it): a 1,000-stage project's stat cache and lock mirror
      // are 2 MB, 0.04 s of a run after one edit.
      fresh.lock.flush();
      resident.defer(async () => {
        if (summaryWanted(await saveState())) await writeSummary(fresh);
      });
      deferred = true;
    }
  } finally {
    try {
      if (!deferred) statCacheSaved = await saveState();
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      reporter.end();
    }
  }
  if (runner.fatal) throw runner.fatal;
  const count = (o: Outcome) => [...outcomes.values()].filter((v) => v === o).length;
  const failed = count('failed');
  if (!resident && summaryWanted(statCacheSaved)) await writeSummary(fresh);
  // What an earlier round ran is up to date in the last one: counted once, as what it did.
  const summary = {
    ran: earlier.ran + count('ran'),
    restored: earlier.restored + count('restored'),
    up_to_date: Math.max(0, count('up-to-date') - earlier.ran - earlier.restored),
    failed,
    duration_ms: Date.now() - started,
    ...(rounds > 1 ? { rounds } : {}),
  };
  const waiting = count('deferred');
  const ok = failed === 0 && count('cancelled') === 0 && count('blocked') === 0 && waiting === 0;
  if (options.json) {
    process.stdout.write(JSON.stringify({ event: 'done', ok, ...summary }) + '\n');
  } else {
    const parts = [`${summary.ran} ran`, `${summary.restored} restored`, `${summary.up_to_date} up to date`];
    if (rounds > 1) parts.push(`${rounds} rounds`);
    if (failed) parts.push(red(`${failed} failed`));
    if (waiting) parts.push(yellow(`${waiting} deferred`));
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

export async function statusCommand(targets: string[], options: Common & { json?: boolean }): Promise<number> {
  // What the no-op summary still describes need not be statted again (a full status walks every path it lists anyway).
  const known = targets.length === 0 ? (await checkSinceSummary(options.file)).known : undefined;
  const ws = open(options, known);
  const planned = await plan(ws, ws.graph.select(targets));
  // The stat cache stays as the last run left it, so that what changed stays nameable.
  await ws.close({ saveStatCache: false });
  const stale = planned.filter((p) => p.action !== 'up-to-date');
  if (options.json) {
    process.stdout.write(JSON.stringify(planned.map((p) => ({ stage: p.id, stale: p.action !== 'up-to-date', action: p.action, reasons: p.reasons }))) + '\n');
    return 0;
  }
  for (const p of stale) {
    const how = p.action === 'restore' ? dim(' [restorable from cache]') : '';
    process.stdout.write(`${bold(p.id)}: ${p.reasons.join('; ')}${how}\n`);
  }
  for (const p of planned) {
    if (p.action === 'up-to-date' && ws.project.byId.get(p.id)?.frozen) process.stdout.write(`${bold(p.id)}: ${dim("frozen: not checked, pipeline.lock's run stands")}\n`);
  }
  const fresh = planned.length - stale.length;
  process.stdout.write(stale.length === 0 ? `${green('✓')} everything is up to date (${fresh} stage instances)\n` : dim(`${stale.length} stale, ${fresh} up to date\n`));
  return 0;
}

/** A stage's commands as `run --dry-run` prints them: the shell lines (in their wdir), or the built-in with its options. */
function commandLines(stage: ResolvedStage): string[] {
  const where = stage.wdir === '.' ? '' : `cd ${stage.wdir} && `;
  if (stage.cmd) return stage.cmd.flatMap((c) => c.split('\n')).map((line) => where + line);
  return [`uses: ${stage.uses}${Object.keys(stage.with ?? {}).length ? ` with: ${JSON.stringify(stage.with)}` : ''}`];
}
