import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { splitCsv } from '../runtime/manifest.js';
import { StageError } from '../runtime/stage.js';

/** One file the user listed or placed in a class folder, before it is read. */
export interface Candidate {
  /** Where it is. */
  abs: string;
  /** How the user names it: relative to the folder root or to the CSV's folder. */
  rel: string;
  /** The class name (or a numeric target, as text). */
  label: string;
  source: string;
  /** From a CSV `group` column; else decided later (group_pattern, or one per image). */
  group?: string;
}

export interface Discovered {
  candidates: Candidate[];
  /** Files that cannot be images at all, with why (`notes.txt`: not an image file). */
  skipped: { path: string; reason: string }[];
  /** `column` when a CSV named groups. */
  groupsFrom?: 'column';
}

/** Extensions sharp decodes (libvips), lower case. */
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif', '.bmp']);

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());
}

/** A folder tree `<root>/<class>/[<source>/...]file` or a CSV `path,label[,source,group]`. */
export function discover(input: string, allowedClasses?: readonly string[]): Discovered {
  const stats = statSync(input, { throwIfNoEntry: false });
  if (!stats) throw new StageError(`${input} does not exist (a folder of class folders, or a CSV path,label[,source,group])`);
  return stats.isDirectory() ? fromFolder(input) : fromCsv(input, allowedClasses);
}

function fromFolder(root: string): Discovered {
  const candidates: Candidate[] = [];
  const skipped: Discovered['skipped'] = [];
  const visible = (dir: string) => readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of visible(root)) {
    if (!entry.isDirectory()) {
      skipped.push({ path: entry.name, reason: 'not inside a class folder (<root>/<class>/file)' });
      continue;
    }
    const walk = (dir: string, rel: string, source: string | undefined) => {
      for (const child of visible(dir)) {
        const childRel = `${rel}/${child.name}`;
        if (child.isDirectory()) walk(path.join(dir, child.name), childRel, source ?? child.name);
        else if (!isImageFile(child.name)) skipped.push({ path: childRel, reason: `not an image file (${path.extname(child.name) || 'no extension'})` });
        else candidates.push({ abs: path.join(dir, child.name), rel: childRel, label: entry.name, source: source ?? entry.name });
      }
    };
    walk(path.join(root, entry.name), entry.name, undefined);
  }
  return { candidates, skipped };
}

const REQUIRED = ['path', 'label'] as const;
const OPTIONAL = ['source', 'group'] as const;

function fromCsv(file: string, allowedClasses?: readonly string[]): Discovered {
  const dir = path.dirname(file);
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const header = splitCsv(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  for (const column of REQUIRED) {
    if (!header.includes(column)) {
      throw new StageError(`${file}:1: missing column "${column}" (a CSV of images has path,label and may add source,group; found: ${header.filter(Boolean).join(',') || 'nothing'})`);
    }
  }
  const at = Object.fromEntries([...REQUIRED, ...OPTIONAL].map((c) => [c, header.indexOf(c)])) as Record<(typeof REQUIRED)[number] | (typeof OPTIONAL)[number], number>;
  const candidates: Candidate[] = [];
  lines.slice(1).forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${file}:${index + 2}`;
    const cells = splitCsv(line).map((c) => c.trim());
    const rel = cells[at.path] ?? '';
    const label = cells[at.label] ?? '';
    if (!rel) throw new StageError(`${where}: empty path`);
    if (!label) throw new StageError(`${where}: empty label for ${rel}`);
    if (path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) {
      throw new StageError(`${where}: path "${rel}" leaves the CSV's folder (paths are relative to ${path.basename(file)}'s folder, without ..)`);
    }
    if (allowedClasses && !allowedClasses.includes(label)) {
      throw new StageError(`${where}: unknown label "${label}" (classes: ${allowedClasses.join(', ')})`);
    }
    const group = at.group >= 0 ? cells[at.group] : undefined;
    candidates.push({
      abs: path.join(dir, rel),
      rel: rel.split(path.sep).join('/'),
      label,
      source: (at.source >= 0 && cells[at.source]) || label,
      ...(group ? { group } : {}),
    });
  });
  return { candidates, skipped: [], ...(at.group >= 0 ? { groupsFrom: 'column' as const } : {}) };
}
