import type { Action } from './workspace.js';

/** One line of `--json`, and what every reporter consumes. */
export type RunEvent =
  | { event: 'plan'; stages: { stage: string; action: Action; reasons: string[] }[] }
  | { event: 'started'; stage: string; action: 'run' | 'restore'; reasons: string[]; gpus?: string[] }
  | { event: 'finished'; stage: string; duration_ms: number }
  | { event: 'restored'; stage: string; duration_ms: number }
  /** `frozen`: a frozen stage, not even checked (DVC's frozen). */
  | { event: 'skipped'; stage: string; reason: 'up-to-date' | 'frozen' }
  | { event: 'failed'; stage: string; duration_ms: number; exit_code?: number; signal?: string; message: string; log: string; log_tail: string[] }
  | { event: 'blocked'; stage: string; by: string }
  | { event: 'cancelled'; stage: string }
  /** Its instances are listed from a file this run is writing: it runs in the next round, planned afresh. */
  | { event: 'deferred'; stage: string; reason: string }
  /** A round ended with deferred stages; the spec is expanded again and the run goes on. */
  | { event: 'replan'; round: number; deferred: number }
  | { event: 'progress'; stage: string; data: Record<string, unknown> }
  | { event: 'waiting'; holder: string }
  | { event: 'done'; ok: boolean; ran: number; restored: number; up_to_date: number; failed: number; duration_ms: number; rounds?: number };

export interface Reporter {
  /** Only a live display shows an ETA; reading every stage's last run record costs a file read each. */
  readonly wantsEstimates?: boolean;
  /** Called with an estimate of each stage's duration (ms) before anything runs, when known. */
  begin(total: number, estimates: Map<string, number>, jobs: number): void;
  emit(event: RunEvent): void;
  end(): void;
}
