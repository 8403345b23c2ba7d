import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { esc } from './html.js';


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

/** Every fold's out-of-fold predictions of one experiment. */
export function readOof(runsDir: string): OofRow[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .sort()
    .flatMap((fold) => {
      const file = path.join(runsDir, fold, 'oof.csv');
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8').trim().split('\n').slice(1).map((line) => {
        const [id, label, source, prob, pred] = line.split(',');
        return { id, label: Number(label), source, prob: Number(prob), pred: pred === undefined ? (Number(prob) >= 0.5 ? 1 : 0) : Number(pred) };
      });
    });
}

/** A thumbnail inlined as a data URL, with its caption. */
export async function imageTag(file: string, caption: string): Promise<string> {
  const png = await sharp(file).resize(72, 90, { fit: 'contain', background: '#fff' }).png().toBuffer();
  return `<figure><img src="data:image/png;base64,${png.toString('base64')}" alt="${esc(caption)}"><figcaption>${esc(caption)}</figcaption></figure>`;
}

