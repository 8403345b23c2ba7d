/** Text made safe to place in the report's HTML. */
export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A table of text cells, header first, every cell escaped; `caption` above it. */
export const htmlTable = (header: readonly string[], rows: readonly (readonly string[])[], caption?: string): string =>
  `<table>${caption === undefined ? '' : `<caption>${esc(caption)}</caption>`}<tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;

/** The same table as Markdown lines. */
export const mdTable = (header: readonly string[], rows: readonly (readonly string[])[]): string[] => [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
