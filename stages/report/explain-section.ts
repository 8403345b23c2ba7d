import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Explained, ExplanationsFile, ShareSummary } from '../explain/index.js';
import { esc } from './html.js';

/** Each experiment's explanations.json under an `explain` stage's folder (outputs/explain/<experiment>/). */
export function readExplanations(dir: string | undefined, experiments: readonly string[]): Map<string, { file: ExplanationsFile; dir: string }> {
  const found = new Map<string, { file: ExplanationsFile; dir: string }>();
  if (!dir) return found;
  for (const name of experiments) {
    const folder = path.join(dir, name);
    const file = path.join(folder, 'explanations.json');
    if (existsSync(file)) found.set(name, { file: JSON.parse(readFileSync(file, 'utf8')) as ExplanationsFile, dir: folder });
  }
  return found;
}

/** "0.42 [0.34, 0.50]": a share with its interval over images. */
export function shareCell(s: ShareSummary | undefined): string {
  if (!s || s.mean === null) return '—';
  return s.lo === null ? `${s.mean.toFixed(2)} (n=${s.n})` : `${s.mean.toFixed(2)} [${s.lo.toFixed(2)}, ${s.hi!.toFixed(2)}]`;
}

/** A network that scores well while most of its heatmap mass lies outside the face is answering from somewhere else. */
const GOOD_AUC = 0.8;
const FACE_MINORITY = 0.5;

interface Member {
  name: string;
  auc: number | undefined;
  baseline?: string;
  /** A data-scale cell: the model it scales and its share of the training data. */
  model?: string;
  fraction?: number;
}

const apart = (a: ShareSummary, b: ShareSummary) => a.lo !== null && b.lo !== null && (a.lo > b.hi! || a.hi! < b.lo);

/** Per model of a data-scale phase: the share inside the face from its smallest to its largest data fraction. */
function dataScaleLines(members: readonly Member[], explanations: ReturnType<typeof readExplanations>): string[] {
  const byModel = new Map<string, Member[]>();
  for (const m of members) if (m.fraction !== undefined && m.model && explanations.get(m.name)?.file.summary.face_share.mean != null) byModel.set(m.model, [...(byModel.get(m.model) ?? []), m]);
  return [...byModel.entries()].flatMap(([model, cells]) => {
    if (new Set(cells.map((c) => c.fraction)).size < 2) return [];
    const sorted = [...cells].sort((a, b) => a.fraction! - b.fraction!);
    const share = (m: Member) => explanations.get(m.name)!.file.summary.face_share;
    const [first, last] = [share(sorted[0]!), share(sorted.at(-1)!)];
    const trend = last.mean! > first.mean! ? 'rises' : last.mean! < first.mean! ? 'falls' : 'stays';
    const steps = sorted.map((m) => `${share(m).mean!.toFixed(2)} at ${Math.round(100 * m.fraction!)}%`).join(' → ');
    return [`${model}: the share inside the face ${trend} with more data (${steps} of the training data; ${apart(first, last) ? 'the end points\' intervals are apart' : 'the end points\' intervals overlap'}).`];
  });
}

/** Up to `n` images of a kind, as explained. */
const some = (images: readonly Explained[], kinds: readonly Explained['selection'][], n: number) => images.filter((i) => kinds.includes(i.selection)).slice(0, n);

/**
 * A phase's "Where the networks look": per experiment the share of the heatmap inside the face
 * and on the border (95% intervals over images), warnings for networks that score well while
 * looking mostly outside the face, how each share moved against the experiment's baseline, and
 * image | heatmap pairs of its hardest errors and of its sample per source.
 */
export function explainSection(phase: string, members: readonly Member[], explanations: ReturnType<typeof readExplanations>): { html: string[]; md: string[] } {
  const shown = members.filter((m) => explanations.has(m.name));
  if (shown.length === 0) return { html: [], md: [] };
  const html: string[] = [`<h3>Phase ${esc(phase)}: where the networks look</h3>`];
  const md: string[] = [`### Phase ${phase}: where the networks look`, ''];
  const method = (e: ExplanationsFile) => (e.method === 'gradcam' ? `Grad-CAM (${e.layer})` : 'occlusion');
  const note = 'Share of the positive heatmap mass inside the detected face box and in the outer 10% of the image (where letterbox bars and aspect shortcuts live), over the explained images: the hardest errors and a fixed sample per class x source, each explained by the fold model that did not train on it. 95% t intervals over images.';
  html.push(`<p class="methods">${esc(note)}</p>`);
  md.push(note, '');
  const header = ['experiment', 'AUC', 'method', 'inside the face [95% CI]', 'on the border [95% CI]', 'images (with a face)', 'vs baseline'];
  html.push(`<table><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`);
  md.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
  const warnings: string[] = [];
  for (const m of shown) {
    const e = explanations.get(m.name)!.file;
    const face = e.summary.face_share;
    const base = m.baseline ? explanations.get(m.baseline)?.file.summary.face_share : undefined;
    let versus = '—';
    if (base && base.mean !== null && face.mean !== null) {
      const delta = face.mean - base.mean;
      const separate = apart(face, base);
      versus = `${delta >= 0 ? '+' : ''}${delta.toFixed(2)} vs ${m.baseline} (${separate ? (delta > 0 ? 'rises; intervals apart' : 'falls; intervals apart') : 'intervals overlap'})`;
    }
    const cells = [m.name, m.auc === undefined ? '—' : m.auc.toFixed(3), method(e), shareCell(face), shareCell(e.summary.border_share), `${e.images.length} (${e.summary.faces_found})`, versus];
    html.push(`<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`);
    md.push(`| ${cells.join(' | ')} |`);
    if (m.auc !== undefined && m.auc >= GOOD_AUC && face.mean !== null && (face.hi ?? face.mean) < FACE_MINORITY) {
      warnings.push(`${m.name} scores AUC ${m.auc.toFixed(3)} while only ${(100 * face.mean).toFixed(0)}% of its heatmap mass lies inside the face (upper bound ${(100 * (face.hi ?? face.mean)).toFixed(0)}%): it may be answering from the background or the image's geometry, not the face.`);
    }
  }
  html.push('</table>');
  md.push('');
  for (const line of dataScaleLines(shown, explanations)) {
    html.push(`<p>${esc(line)}</p>`);
    md.push(line, '');
  }
  for (const w of warnings) {
    html.push(`<p class="warn">${esc(w)}</p>`);
    md.push(`**${w}**`, '');
  }
  for (const m of shown) {
    const { file: e, dir } = explanations.get(m.name)!;
    const errors = some(e.images, ['false_positive', 'false_negative', 'error'], 4);
    const sample = some(e.images, ['sample'], 4);
    html.push(`<p><b>${esc(m.name)}</b>: hardest errors, then the sample per source (image | ${esc(method(e))}; the white box is the face)</p><div class="grid">`);
    for (const image of [...errors, ...sample]) {
      const caption = `${image.selection.replace('_', ' ')} · ${image.class ?? image.label} (${image.source}) · score ${image.score.toFixed(2)} · face ${image.face_share === null ? '—' : image.face_share.toFixed(2)}`;
      const pair = [image.input, image.heatmap].map((file) => `<img src="data:image/png;base64,${readFileSync(path.join(dir, file)).toString('base64')}" width="90" height="90" alt="${esc(`${file} of ${image.path}`)}">`).join('');
      html.push(`<figure class="pair">${pair}<figcaption>${esc(caption)}</figcaption></figure>`);
    }
    html.push('</div>');
  }
  return { html, md };
}
