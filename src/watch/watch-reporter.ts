import { createLogUpdate } from 'log-update';
import type { Reporter, RunEvent } from '../run/events.js';
import { bold, dim, formatDuration, green, red, yellow } from '../ui/format.js';
import { describe } from '../ui/reporters.js';

/** What watch mode reports besides stage events. */
export type WatchEvent =
  | RunEvent
  | { event: 'change'; paths: string[] }
  | { event: 'idle'; watching: number }
  | { event: 'error'; message: string };

export interface WatchReporter extends Reporter {
  emit(event: WatchEvent): void;
}

/** `--json`: one line per event, with a timestamp so tools (and tests) can measure latency. */
export class JsonWatchReporter implements WatchReporter {
  begin(): void {}
  emit(event: WatchEvent): void {
    process.stdout.write(JSON.stringify({ ...event, at: Date.now() }) + '\n');
  }
  end(): void {}
}

/** Not a terminal: a line per result, change and error. */
export class PlainWatchReporter implements WatchReporter {
  begin(): void {}
  emit(event: WatchEvent): void {
    const line = lineFor(event);
    if (line) process.stderr.write(line + '\n');
  }
  end(): void {}
}

function lineFor(event: WatchEvent): string | undefined {
  switch (event.event) {
    case 'change':
      return `${yellow('changed:')} ${event.paths.join(', ')}`;
    case 'idle':
      return dim(`watching ${event.watching} paths; waiting for changes (Ctrl-C to stop)`);
    case 'error':
      return `${red('error:')} ${event.message}\n${dim('  still watching: the next good save resumes')}`;
    default:
      return describe(event, false);
  }
}

interface Row {
  state: 'running' | 'ran' | 'restored' | 'up to date' | 'failed' | 'cancelled' | 'blocked' | 'deferred';
  since: number;
  detail?: string;
}

/**
 * On a terminal, one block redrawn in place: what changed last, then each stage's last result
 * (running ones with their time), then the last error if the spec is broken.
 */
export class TtyWatchReporter implements WatchReporter {
  private readonly rows = new Map<string, Row>();
  private lastChange = '';
  private error = '';
  private idle = '';
  private readonly log = createLogUpdate(process.stderr);
  private readonly timer = setInterval(() => this.render(), 250);

  constructor() {
    this.timer.unref();
  }

  begin(): void {}

  emit(event: WatchEvent): void {
    const now = Date.now();
    switch (event.event) {
      case 'change':
        this.lastChange = `${new Date(now).toLocaleTimeString()} ${event.paths.join(', ')}`;
        this.error = '';
        this.idle = '';
        break;
      case 'error':
        this.error = event.message;
        break;
      case 'idle':
        this.idle = `watching ${event.watching} paths`;
        break;
      case 'started':
        this.rows.set(event.stage, { state: 'running', since: now, detail: event.reasons.join('; ') });
        break;
      case 'progress': {
        const row = this.rows.get(event.stage);
        if (row) row.detail = Object.entries(event.data).map(([k, v]) => `${k} ${String(v)}`).join(' · ');
        break;
      }
      case 'finished':
        this.rows.set(event.stage, { state: 'ran', since: now, detail: formatDuration(event.duration_ms) });
        break;
      case 'restored':
        this.rows.set(event.stage, { state: 'restored', since: now, detail: formatDuration(event.duration_ms) });
        break;
      case 'skipped':
        if (this.rows.get(event.stage)?.state !== 'running') this.rows.set(event.stage, { state: this.rows.get(event.stage)?.state ?? 'up to date', since: now, ...(this.rows.get(event.stage)?.detail ? { detail: this.rows.get(event.stage)!.detail! } : {}) });
        break;
      case 'failed':
        this.rows.set(event.stage, { state: 'failed', since: now, detail: `${event.message} · ${event.log}` });
        break;
      case 'blocked':
        this.rows.set(event.stage, { state: 'blocked', since: now, detail: `upstream ${event.by} failed` });
        break;
      case 'deferred':
        this.rows.set(event.stage, { state: 'deferred', since: now, detail: event.reason });
        break;
      case 'cancelled':
        // A superseded pass cancels what it had not started; keep the previous result.
        if (this.rows.get(event.stage)?.state === 'running') this.rows.set(event.stage, { state: 'cancelled', since: now });
        break;
    }
    this.render();
  }

  private render(): void {
    const now = Date.now();
    const width = process.stderr.columns ?? 100;
    const idWidth = Math.min(40, Math.max(8, ...[...this.rows.keys()].map((id) => id.length)));
    const lines = [bold('pipeline watch') + dim(this.lastChange ? ` · last change ${this.lastChange}` : '') + dim(this.idle ? ` · ${this.idle}` : '')];
    for (const [id, row] of this.rows) {
      const mark = { running: yellow('▶'), ran: green('✓'), restored: green('↺'), 'up to date': dim('·'), failed: red('✗'), cancelled: yellow('-'), blocked: yellow('-'), deferred: dim('…') }[row.state];
      const detail = row.state === 'running' ? `running ${formatDuration(now - row.since)}${row.detail ? ' · ' + row.detail : ''}` : `${row.state}${row.detail ? ' ' + row.detail : ''}`;
      lines.push(`  ${mark} ${id.padEnd(idWidth)} ${dim(detail)}`.slice(0, width + 20));
    }
    if (this.error) lines.push('', `${red('error:')} ${this.error}`, dim('still watching: the next good save resumes'));
    this.log(lines.join('\n'));
  }

  end(): void {
    clearInterval(this.timer);
    this.render();
    this.log.done();
  }
}
