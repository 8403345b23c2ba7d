import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** How often a running stage's log is read for `::progress` lines (a short stage is never read). */
const FOLLOW_MS = 250;

/** Reads what a stage appends to its log, line by line, every FOLLOW_MS (and once more at `stop`). */
export function followLog(logFile: string, onLine: (line: string) => void): { stop: () => void } {
  let offset = 0;
  const lines = lineReader(onLine);
  const chunk = Buffer.allocUnsafe(1 << 16);
  const read = () => {
    let fd: number;
    try {
      fd = openSync(logFile, 'r');
    } catch {
      return;
    }
    try {
      for (let n; (n = readSync(fd, chunk, 0, chunk.length, offset)) > 0; offset += n) lines(chunk.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  };
  const timer = setInterval(read, FOLLOW_MS);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      read();
    },
  };
}

/** Feeds the complete lines of a byte stream to `onLine`, holding back a partial last line. */
export function lineReader(onLine: (line: string) => void): (chunk: Buffer) => void {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  return (chunk) => {
    const lines = (partial + decoder.write(chunk)).split('\n');
    partial = lines.pop() ?? '';
    lines.forEach(onLine);
  };
}

