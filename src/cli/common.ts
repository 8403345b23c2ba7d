import { UserError } from '../errors.js';
import type { Unchanged } from '../hash/content-hasher.js';
import type { Workspace } from '../run/workspace.js';
import { openWorkspace } from '../session/session.js';

export interface Common {
  file: string;
  setParam?: string[];
}

/** `known`: what the no-op check just found unchanged (see Unchanged). */
export function open(options: Common, known?: Unchanged): Workspace {
  return openWorkspace({ specFile: options.file, ...(options.setParam ? { overrides: options.setParam } : {}) }, known ? { known } : {});
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--jobs ${value}: expected a whole number >= 1`);
  return n;
}
