import { lstatSync, readdirSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';
import { formatBytes } from './ui/format.js';

/** ENOSPC, or a quota (EDQUOT) that acts like one. */
export function isDiskFull(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Bytes free to this user on the filesystem holding `dir` (or its nearest existing parent). */
export function freeBytes(dir: string): number | undefined {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    try {
      const stats = statfsSync(at);
      return Number(stats.bavail) * Number(stats.bsize);
    } catch {
      if (at === path.dirname(at)) return undefined;
    }
  }
}

export interface DiskFullContext {
  /** What could not be written, as the user knows it: `out outputs/model`, `pipeline.lock`. */
  what: string;
  /** The directory it was going to. */
  dir: string;
  /** How much it needed, when known. */
  bytes?: number;
  /** What the user can do, beyond freeing space. */
  remedy: string;
  /** What state things were left in. */
  kept: string;
}

/** One paragraph a user can act on, instead of a stack trace; exit 1. */
export class DiskFullError extends UserError {
  constructor(readonly context: DiskFullContext) {
    const free = freeBytes(context.dir);
    const size = context.bytes !== undefined ? ` (${formatBytes(context.bytes)})` : '';
    const room = free !== undefined ? `; ${formatBytes(free)} free there` : '';
    super(`the disk is full: could not write ${context.what}${size} to ${context.dir}${room}. Nothing half-written was left behind; ${context.kept} ${context.remedy}`, undefined, 1);
    this.name = 'DiskFullError';
  }
}

/** Runs `write`; a full disk becomes a DiskFullError with `context`, anything else is rethrown. */
export function onDiskFull<T>(write: () => T, context: () => DiskFullContext): T {
  try {
    return write();
  } catch (error) {
    if (isDiskFull(error)) throw new DiskFullError(context());
    throw error;
  }
}

export async function onDiskFullAsync<T>(write: () => Promise<T>, context: () => DiskFullContext): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isDiskFull(error)) throw new DiskFullError(context());
    throw error;
  }
}

/** Bytes of a file, or of every file under a directory (what storing it needs at most). */
export function sizeOfPath(abs: string): number {
  const stats = lstatSync(abs, { throwIfNoEntry: false });
  if (!stats) return 0;
  if (!stats.isDirectory()) return stats.size;
  let total = 0;
  for (const entry of readdirSync(abs, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += lstatSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}
