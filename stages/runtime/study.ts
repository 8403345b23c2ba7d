import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import jsYaml from 'js-yaml';

/** What an experiment config says about its place in the study (`study:` block). */
export interface StudyInfo {
  name: string;
  phase: number;
  question: string;
  label: string;
  baseline?: string;
  fraction?: number;
  model?: string;
  /** A baseline probe (configs/baseline/): a reference row in every phase, not a phase of its own. */
  probe?: boolean;
  /** A cell of a width x data sweep: the report draws the phase's cells as heatmaps. */
  sweep?: boolean;
  width?: number;
}

/**
 * Every experiment config under `configsDir` (phase folders), with what `study.yaml` says about
 * it; a config that study.yaml does not describe still appears, under its folder's phase, and
 * an experiment study.yaml gives a phase appears without a config file (made from values).
 */
export function readStudy(configsDir: string): StudyInfo[] {
  const metaFile = path.join(configsDir, 'study.yaml');
  const meta = existsSync(metaFile)
    ? ((jsYaml.load(readFileSync(metaFile, 'utf8'), { schema: jsYaml.CORE_SCHEMA }) as { experiments?: Record<string, Partial<StudyInfo>> } | null)?.experiments ?? {})
    : {};
  const out: StudyInfo[] = [];
  for (const folder of readdirSync(configsDir).sort()) {
    const dir = path.join(configsDir, folder);
    const phase = /^phase(\d+)(-[\w-]+)?$/.exec(folder);
    const probe = folder === 'baseline';
    if ((!phase && !probe) || !existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      if (!/\.ya?ml$/.test(file)) continue;
      const name = file.replace(/\.ya?ml$/, '');
      const m = meta[name] ?? {};
      if (probe) out.push({ ...m, name, phase: 0, question: 'baseline probe', label: String(m.label ?? 'logistic regression on pixels'), probe: true } as StudyInfo);
      else out.push({ ...m, name, phase: Number(m.phase ?? phase![1]), question: String(m.question ?? ''), label: String(m.label ?? name) } as StudyInfo);
    }
  }
  // An experiment made from values (a `set:` matrix, a search's refit) has no config file; study.yaml describing it with a phase lists it.
  const listed = new Set(out.map((s) => s.name));
  for (const [name, m] of Object.entries(meta)) {
    if (listed.has(name) || m.phase === undefined) continue;
    out.push({ ...m, name, phase: Number(m.phase), question: String(m.question ?? ''), label: String(m.label ?? name) } as StudyInfo);
  }
  return out.sort((a, b) => a.phase - b.phase || a.name.localeCompare(b.name));
}

