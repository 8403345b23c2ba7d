import { createLogUpdate } from 'log-update';
import type { RunEvent } from '../run/events.js';
import { bold, dim, formatDuration, yellow } from './format.js';
import { describe, PlainReporter } from './reporters.js';

/**
 * On a terminal: finished stages scroll above one compact live block (counts, what runs,
 * ETA from the durations the run cache remembers).
 */
export class TtyReporter extends PlainReporter {
  readonly wantsEstimates = true;
  private total = 0;
  private done = 0;
  private jobs = 1;
  private readonly running = new Map<string, { since: number; progress?: string }>();
  private estimates = new Map<string, number>();
  private finishedDurations: number[] = [];
  private readonly finished = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** The live block goes where the stage lines go (stderr), so stdout stays clean for data. */
  private readonly logUpdate = createLogUpdate(process.stderr);

  override begin(total = 0, estimates = new Map<string, number>(), jobs = 1): void {
    // A later round (a re-plan after a `from:` file was written) counts on from where the last ended.
    this.total = total;
    this.done = 0;
    this.finished.clear();
    this.estimates = estimates;
    this.jobs = jobs;
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => this.render(), 200);
    this.timer.unref();
  }

  override emit(event: RunEvent): void {
    switch (event.event) {
      case 'started':
        this.running.set(event.stage, { since: Date.now() });
        break;
      case 'progress': {
        const entry = this.running.get(event.stage);
        if (entry) entry.progress = Object.entries(event.data).map(([k, v]) => (k === 'eta_s' && typeof v === 'number' ? `ETA ${formatDuration(v * 1000)}` : `${k} ${String(v)}`)).join(' · ');
        break;
      }
      case 'finished':
      case 'restored':
        this.finishedDurations.push(event.duration_ms);
        this.complete(event.stage);
        break;
      case 'failed':
      case 'skipped':
      case 'blocked':
      case 'cancelled':
      case 'deferred':
        this.complete(event.stage);
        break;
    }
    // Running stages live in the block; only results scroll.
    const line = event.event === 'started' ? undefined : describe(event, false);
    if (line) {
      this.logUpdate.clear();
      super.print(line);
    }
    this.render();
  }

  private complete(id: string): void {
    this.running.delete(id);
    if (!this.finished.has(id)) {
      this.finished.add(id);
      this.done++;
    }
  }

  protected override print(line: string): void {
    this.logUpdate.clear();
    super.print(line);
    this.render();
  }

  private render(): void {
    if (this.total === 0) return;
    const now = Date.now();
    const queued = this.total - this.done - this.running.size;
    const eta = this.eta(now);
    const head = `${bold(`${this.done}/${this.total}`)} done · ${this.running.size} running · ${queued} queued${eta !== undefined ? ` · ETA ${formatDuration(eta)}` : ''}`;
    const width = process.stdout.columns ?? 100;
    const lines = [...this.running].slice(0, 8).map(([id, r]) => {
      const text = `  ${yellow('▶')} ${id} ${dim(formatDuration(now - r.since))}${r.progress ? dim(` · ${r.progress}`) : ''}`;
      return text.length > width + 20 ? text.slice(0, width + 20) : text;
    });
    if (this.running.size > 8) lines.push(dim(`  … and ${this.running.size - 8} more`));
    this.logUpdate([head, ...lines].join('\n'));
  }

  private eta(now: number): number | undefined {
    const fallback = this.finishedDurations.length ? this.finishedDurations.reduce((a, b) => a + b, 0) / this.finishedDurations.length : undefined;
    let work = 0;
    for (const [id] of this.estimates) {
      if (this.finished.has(id)) continue;
      const running = this.running.get(id);
      const estimate = this.estimates.get(id) ?? fallback;
      if (estimate === undefined) return undefined;
      work += running ? Math.max(0, estimate - (now - running.since)) : estimate;
    }
    const unestimated = this.total - this.done - [...this.estimates.keys()].filter((id) => !this.finished.has(id)).length;
    if (unestimated > 0) {
      if (fallback === undefined) return undefined;
      work += unestimated * fallback;
    }
    return work / this.jobs;
  }

  override end(): void {
    if (this.timer) clearInterval(this.timer);
    this.logUpdate.clear();
    this.logUpdate.done();
  }
}
