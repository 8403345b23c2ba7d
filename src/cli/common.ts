import { UserError } from '../errors.js';
import type { Unchanged } from '../hash/content-hasher.js';
import type { Workspace } from '../run/workspace.js';
import { openWorkspace } from '../session/session.js';
import { yellow } from '../ui/format.js';

export interface Common {
  file: string;
  setParam?: string[];
}

/**
 * What a resident process (`pipeline daemon`) keeps from one command to the next; a one-shot
 * command line has none.
 */
export interface Resident {
  /** A workspace over what the last command left in memory, wherever the disk still says the same. */
  open(options: Common, known?: Unchanged): Workspace;
  /** After `ws` closed: what it holds in memory is what the disk now says. */
  closed(ws: Workspace): void;
  /** Work that need not hold up the command's answer (the stat cache, the lock's mirror, the no-op summary); started after the answer, done before the next command. */
  defer(work: () => Promise<void>): void;
}

/** `known`: what the no-op check just found unchanged (see Unchanged). */
export function open(options: Common, known?: Unchanged): Workspace {
  return warned(openWorkspace({ specFile: options.file, ...(options.setParam ? { overrides: options.setParam } : {}) }, known ? { known } : {}));
}

/** What the load let through but a researcher should read (unknown param keys under `strict_params: false`), on stderr. */
export function warned(ws: Workspace): Workspace {
  for (const warning of ws.project.warnings) process.stderr.write(`${yellow('warning:')} ${warning}\n`);
  return ws;
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${value}: expected a whole number >= 1`);
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UserError(`${value}: expected a number >= 0`);
  return n;
}
