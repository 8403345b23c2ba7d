import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const MAX_TAIL_LINE = 400;
const TAIL_BYTES = 64 * 1024;

/** The last lines of a log, read from its last 64 KB (a log can be gigabytes), each cut for a terminal. */
export function tail(file: string, lines: number): string[] {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.min(size, TAIL_BYTES));
    readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    const text = buffer.toString('utf8').replace(/\n$/, '');
    return text ? text.split('\n').slice(-lines).map((line) => (line.length > MAX_TAIL_LINE ? `${line.slice(0, MAX_TAIL_LINE)}… (cut)` : line)) : [];
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
