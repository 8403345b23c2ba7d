import type { TransferProgress } from '../cache/transfer.js';

/** One redrawn line on a terminal (`push 12/40 objects · 3.2 MB`); silent when not a terminal. */
export function transferProgress(verb: string): ((p: TransferProgress) => void) & { end(): void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  const update = (p: TransferProgress) => {
    if (!tty) return;
    const now = Date.now();
    if (now - last < 100 && p.done < p.total) return;
    last = now;
    process.stderr.write(`\r${verb} ${p.done}/${p.total} objects · ${formatBytes(p.bytes)}\x1b[K`);
  };
  return Object.assign(update, {
    end: () => {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  });
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
