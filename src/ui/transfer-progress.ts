import type { TransferProgress } from '../store/transfer.js';
import { formatBytes } from './format.js';

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
