import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { esc } from './html.js';
import { splitCsv } from '../runtime/manifest.js';


/** One row of a fold's oof.csv (docs/formats.md). */
export interface OofRow {
  id: string;
  label: number;
  source: string;
  prob: number;
  /** The call at the fold's threshold (chosen on its training predictions). */
  pred: number;
}

/** The misclassified images, most confidently wrong first (a stable sort: ties keep their order). */
export function hardestErrors<R extends OofRow>(rows: readonly R[], count: number): R[] {
  const wrongness = (r: OofRow) => (r.label === 1 ? 1 - r.prob : r.prob);
  return rows.filter((r) => r.pred !== r.label).sort((a, b) => wrongness(b) - wrongness(a)).slice(0, count);
}

/**
 * A multi-target experiment's target is read as `<experiment>:<target>` (the report lists each
 * target as an experiment of its own): its run folders are the experiment's, its columns in
 * oof.csv `<target>_label`, `<target>_prob`, ...
 */
export function splitTarget(runsDir: string): { dir: string; prefix: string } {
  const base = path.basename(runsDir);
  const at = base.lastIndexOf(':');
  return at < 0 ? { dir: runsDir, prefix: '' } : { dir: path.join(path.dirname(runsDir), base.slice(0, at)), prefix: `${base.slice(at + 1)}_` };
}

/** Each fold's oof.csv of an experiment (or of one target of it, see splitTarget), as its header and rows of cells. */
export function oofTables(runsDir: string): { column(name: string): number; rows: string[][] }[] {
  const { dir, prefix } = splitTarget(runsDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((fold) => path.join(dir, fold, 'oof.csv'))
    .filter((file) => existsSync(file))
    .map((file) => {
      const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
      const header = splitCsv(head);
      // A target's own columns; the sample's (id, source) are shared.
      const column = (name: string) => (name === 'id' || name === 'source' || !prefix ? header.indexOf(name) : header.indexOf(prefix + name));
      return { column, rows: lines.map((l) => splitCsv(l)) };
    });
}

/** Every fold's out-of-fold predictions of one experiment. */
export function readOof(runsDir: string): OofRow[] {
  return oofTables(runsDir).flatMap(({ column, rows }) => {
    const [id, label, source, prob, pred] = ['id', 'label', 'source', 'prob', 'pred'].map(column);
    return rows.map((c) => ({ id: c[id], label: Number(c[label]), source: c[source], prob: Number(c[prob]), pred: pred < 0 || c[pred] === undefined ? (Number(c[prob]) >= 0.5 ? 1 : 0) : Number(c[pred]) }));
  });
}

/** A thumbnail inlined as a data URL, with its caption. */
export async function imageTag(file: string, caption: string): Promise<string> {
  const png = await sharp(file).resize(72, 90, { fit: 'contain', background: '#fff' }).png().toBuffer();
  return `<figure><img src="data:image/png;base64,${png.toString('base64')}" alt="${esc(caption)}"><figcaption>${esc(caption)}</figcaption></figure>`;
}

/** An experiment's first fold folder (sorted) that has a metrics.json, and that file: what a run records once for the experiment (its cost, its balance). */
export function firstFold<T>(runsRoot: string, experiment: string): { dir: string; metrics: T } | undefined {
  const dir = path.join(runsRoot, experiment);
  if (!existsSync(dir)) return undefined;
  const fold = readdirSync(dir).sort().find((f) => existsSync(path.join(dir, f, 'metrics.json')));
  return fold ? { dir: path.join(dir, fold), metrics: JSON.parse(readFileSync(path.join(dir, fold, 'metrics.json'), 'utf8')) as T } : undefined;
}
