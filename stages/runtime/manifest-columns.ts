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

/**
 * Why a manifest column cannot be a target for these images (every row when `paths` is left
 * out): the manifest lacks it, or some images have no value (how many, which). Undefined when it
 * can. `shownDir` is how the message names the dataset folder.
 */
export function targetColumnProblem(dir: string, shownDir: string, column: string, paths?: readonly string[]): string | undefined {
  const header = manifestColumns(dir);
  if (!header.includes(column)) return `${column} is not a column of ${path.join(shownDir, MANIFEST_FILE)} (it has: ${header.join(', ') || 'no manifest'})`;
  const values = readManifestColumn(dir, column)!;
  const over = paths ?? [...values.keys()];
  const empty = over.filter((p) => (values.get(p) ?? '').trim() === '');
  if (empty.length) return `${column} is empty for ${empty.length} of ${over.length} images (${empty.slice(0, 5).join(', ')}${empty.length > 5 ? ', ...' : ''}); fill them in, or exclude those images in the images stage`;
  return undefined;
}
