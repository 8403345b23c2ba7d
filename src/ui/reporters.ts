import type { Reporter, RunEvent } from '../run/events.js';
import { bold, dim, formatDuration, green, red, yellow } from './format.js';

/** `--json`: one event per line on stdout, for tools. */
export class JsonReporter implements Reporter {
  begin(_total?: number, _estimates?: Map<string, number>, _jobs?: number): void {}
  emit(event: RunEvent): void {
    process.stdout.write(JSON.stringify(event) + '\n');
  }
  end(): void {}
}

/** A line per finished stage; what a log file or CI sees. */
export class PlainReporter implements Reporter {
  constructor(protected readonly verbose = false) {}

  begin(_total?: number, _estimates?: Map<string, number>, _jobs?: number): void {}

  emit(event: RunEvent): void {
    const line = describe(event, this.verbose);
    if (line) this.print(line);
  }

  protected print(line: string): void {
    process.stderr.write(line + '\n');
  }

  end(): void {}
}

/** A report below 250 stages ran "because" of each of them: a few reasons, then how many more (all of them with --verbose). */
function shortReasons(reasons: string[], verbose: boolean): string {
  const shown = 4;
  return verbose || reasons.length <= shown + 1 ? reasons.join('; ') : `${reasons.slice(0, shown).join('; ')}; and ${reasons.length - shown} more`;
}

export function describe(event: RunEvent, verbose: boolean): string | undefined {
  switch (event.event) {
    case 'started':
      return verbose || event.action === 'run'
        ? `${dim('▶')} ${event.stage} ${dim(`(${event.action === 'run' ? 'running' : 'restoring'}: ${shortReasons(event.reasons, verbose)})`)}${event.gpus ? dim(` gpu ${event.gpus.join(',')}`) : ''}`
        : undefined;
    case 'finished':
      return `${green('✓')} ${event.stage} ${dim(formatDuration(event.duration_ms))}`;
    case 'restored':
      return `${green('↺')} ${event.stage} ${dim(`restored from cache, ${formatDuration(event.duration_ms)}`)}`;
    case 'skipped':
      if (event.reason === 'frozen') return `${dim('❄')} ${event.stage} ${dim("frozen: not checked, pipeline.lock's run stands")}`;
      return verbose ? `${dim('·')} ${event.stage} ${dim('up to date')}` : undefined;
    case 'failed':
      return [
        `${red('✗')} ${bold(event.stage)} failed: ${event.message} ${dim(`after ${formatDuration(event.duration_ms)}`)}`,
        ...(event.log_tail.length ? [dim(`  last lines of ${event.log}:`), ...event.log_tail.map((l) => `  ${dim('│')} ${l}`)] : [dim(`  (no output; log: ${event.log})`)]),
      ].join('\n');
    case 'blocked':
      return `${yellow('-')} ${event.stage} ${dim(`not run: upstream ${event.by} failed`)}`;
    case 'cancelled':
      return `${yellow('-')} ${event.stage} ${dim('cancelled')}`;
    case 'deferred':
      return verbose ? `${dim('…')} ${event.stage} ${dim(`deferred: ${event.reason}`)}` : undefined;
    case 'replan':
      return `${yellow('↻')} ${dim(`round ${event.round} done; ${event.deferred} deferred stage(s) wait on files it wrote: planning again`)}`;
    case 'waiting':
      return `${yellow('…')} another pipeline run (${event.holder}) is using this project; waiting for it to finish`;
    default:
      return undefined;
  }
}

