/** Renders rows of cells as an aligned terminal table, Markdown or CSV. */

const MAX_CELL = 16;

function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/**
 * An aligned table. With `maxWidth` (a terminal), long cells are cut and columns that do not
 * fit are left out; the returned `hidden` says how many, so the caller can say how to see them.
 */
export function textTable(header: string[], rows: string[][], maxWidth?: number): { text: string; hidden: number } {
  const cut = (s: string, i: number) => (maxWidth && i > 0 ? fit(s, MAX_CELL) : s);
  const head = header.map(cut);
  const body = rows.map((r) => r.map(cut));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  let shown = widths.length;
  if (maxWidth) {
    let total = 0;
    shown = 0;
    for (const w of widths) {
      if (shown > 0 && total + w + 2 > maxWidth) break;
      total += w + 2;
      shown++;
    }
  }
  const line = (cells: string[]) => cells.slice(0, shown).map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return { text: [line(head), line(widths.slice(0, shown).map((w) => '─'.repeat(w))), ...body.map(line)].join('\n') + '\n', hidden: widths.length - shown };
}

export function markdownTable(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [`| ${header.map(esc).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n') + '\n';
}

export function csvTable(header: string[], rows: string[][]): string {
  const field = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [header, ...rows].map((r) => r.map(field).join(',')).join('\n') + '\n';
}
