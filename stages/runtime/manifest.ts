import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { StageError } from './stage.js';
import { splitCsv } from './manifest-columns.js';

export { manifestColumns, readManifestColumn, splitCsv, targetColumnProblem } from './manifest-columns.js';

/** One image of a dataset. `path` is relative to the dataset directory. */
export interface Sample {
  path: string;
  /** Binary: 0 = negative (real), 1 = positive (fake); multi-class: the class index; regression: the target. */
  label: number;
  source: string;
  /** The unit that must never straddle two folds (an identity). */
  group: string;
}

export const MANIFEST = 'manifest.csv';

/**
 * Where a sample's file is: manifest paths are relative to the dataset folder, and may climb
 * out of it (`images` leaves the user's files where they are) or be absolute.
 */
export function samplePath(dir: string, sample: { path: string }): string {
  return path.resolve(dir, sample.path);
}

/** A path for a file derived from a sample, inside `dir` even when the sample's own path climbs out. */
export function derivedPath(dir: string, sample: { path: string }): string {
  return path.join(dir, sample.path.replace(/^\/+/, '').replace(/^(\.\.\/)+/, ''));
}

/** Per-image properties a manifest may carry (`images` and `synth-faces` measure them; the report breaks errors down by them). */
export const PROPERTY_COLUMNS = ['width', 'height', 'aspect', 'luminance', 'contrast', 'sharpness', 'jpeg_quality', 'noise', 'high_frequency', 'blockiness', 'brisque'] as const;
export type PropertyName = (typeof PROPERTY_COLUMNS)[number];
export type Properties = Partial<Record<PropertyName, number | null>>;

/** A manifest; with `properties` (one per sample), their columns too, then any `extra` columns (name -> one value per sample). */
export function formatManifest(samples: readonly Sample[], properties?: readonly Properties[], extra: Record<string, readonly (string | number)[]> = {}): string {
  const header = ['path', 'label', 'source', 'group', ...(properties ? PROPERTY_COLUMNS : []), ...Object.keys(extra)];
  const rows = samples.map((s, i) => [s.path, s.label, s.source, s.group, ...(properties ? PROPERTY_COLUMNS.map((c) => properties[i][c] ?? '') : []), ...Object.values(extra).map((v) => v[i])].map(csvField).join(','));
  return [header.join(','), ...rows].join('\n') + '\n';
}

/** The numeric properties of each sample of a dataset's manifest, by sample path; empty when it records none. */
export function readProperties(dir: string): Map<string, Partial<Record<PropertyName, number>>> {
  const manifest = path.join(dir, MANIFEST);
  const out = new Map<string, Partial<Record<PropertyName, number>>>();
  if (!existsSync(manifest)) return out;
  const [head, ...lines] = readFileSync(manifest, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = splitCsv(head);
  const columns = PROPERTY_COLUMNS.filter((c) => header.includes(c));
  for (const line of lines) {
    const cells = splitCsv(line);
    const values: Partial<Record<PropertyName, number>> = {};
    for (const c of columns) {
      const text = cells[header.indexOf(c)];
      if (text !== undefined && text !== '' && Number.isFinite(Number(text))) values[c] = Number(text);
    }
    out.set(cells[header.indexOf('path')], values);
  }
  return out;
}

export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Reads a dataset: `manifest.csv` (path,label,source,group), or a `<source>/<label>/` folder
 * layout (label `real`/`fake` or `0`/`1`; the group is then the file stem, so no grouping).
 */
export function readDataset(dir: string): Sample[] {
  const manifest = path.join(dir, MANIFEST);
  if (existsSync(manifest)) return parseManifest(readFileSync(manifest, 'utf8'), manifest);
  const samples: Sample[] = [];
  for (const source of readdirSync(dir).sort()) {
    const sourceDir = path.join(dir, source);
    if (!statSync(sourceDir).isDirectory()) continue;
    for (const labelName of readdirSync(sourceDir).sort()) {
      const label = labelName === 'real' || labelName === '0' ? 0 : labelName === 'fake' || labelName === '1' ? 1 : undefined;
      if (label === undefined) continue;
      for (const file of readdirSync(path.join(sourceDir, labelName)).sort()) {
        if (!/\.(png|jpe?g|webp)$/i.test(file)) continue;
        samples.push({ path: `${source}/${labelName}/${file}`, label, source, group: file.replace(/\.[^.]+$/, '') });
      }
    }
  }
  if (samples.length === 0) throw new StageError(`${dir}: no ${MANIFEST} and no <source>/<real|fake>/ images`);
  return samples;
}

export function parseManifest(text: string, file: string): Sample[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0]?.split(',').map((h) => h.trim());
  const want = ['path', 'label', 'source', 'group'];
  if (!header || want.some((h) => !header.includes(h))) throw new StageError(`${file}:1: the header must name ${want.join(',')}`);
  const index = Object.fromEntries(want.map((h) => [h, header.indexOf(h)])) as Record<string, number>;
  return lines.slice(1).map((line, i) => {
    const cells = splitCsv(line);
    const text = cells[index.label]?.trim() ?? '';
    const label = Number(text);
    if (text === '' || !Number.isFinite(label)) {
      throw new StageError(`${file}:${i + 2}: label must be a number (0/1 for a binary study, a class index for multi-class, the target for regression), got "${cells[index.label] ?? ''}"`);
    }
    return { path: cells[index.path], label, source: cells[index.source], group: cells[index.group] };
  });
}
