import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Reading a manifest's columns, kept free of the stage runtime: the engine checks
 * `data.targets` against a built manifest when it loads a spec (src/spec/target-columns.ts).
 */

const MANIFEST_FILE = 'manifest.csv';

/** One CSV line's cells (quoted fields, doubled quotes inside them). */
export function splitCsv(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells;
}

/** One column of a dataset's manifest by sample path (any column: a target, a grouping, a property); undefined when the manifest or the column is missing. */
export function readManifestColumn(dir: string, column: string): Map<string, string> | undefined {
  const manifest = path.join(dir, MANIFEST_FILE);
  if (!existsSync(manifest)) return undefined;
  const [head, ...lines] = readFileSync(manifest, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = splitCsv(head);
  const at = header.indexOf(column);
  if (at < 0) return undefined;
  const pathAt = header.indexOf('path');
  return new Map(lines.map((line) => splitCsv(line)).map((cells) => [cells[pathAt], cells[at] ?? '']));
}

/** The manifest's column names (none when there is no manifest). */
export function manifestColumns(dir: string): string[] {
  const manifest = path.join(dir, MANIFEST_FILE);
  return existsSync(manifest) ? splitCsv(readFileSync(manifest, 'utf8').split(/\r?\n/, 1)[0] ?? '') : [];
}
