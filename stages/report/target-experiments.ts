import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { StudyInfo } from '../runtime/study.js';

/** A multi-target experiment's results (aggregate's `targets`), and the study.yaml baseline a target may name. */
interface MultiResults {
  targets: Record<string, Record<string, unknown>>;
}

/**
 * Every experiment of the study with its results; one with several targets becomes one
 * experiment per target, `<experiment>:<target>`, so each target gets the table row, the
 * comparison and the sections of its task as an experiment of one target would. Its
 * baseline: study.yaml's `baseline: { label: p1_cnn, light: p5_cnn_light }` per target, or one
 * name for the first target.
 */
export function experimentsWithTargets(study: readonly StudyInfo[], resultsDir: string): { study: StudyInfo[]; results: Map<string, unknown> } {
  const out: StudyInfo[] = [];
  const results = new Map<string, unknown>();
  for (const s of study) {
    const file = path.join(resultsDir, `${s.name}.json`);
    const result = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : undefined;
    if (!result || typeof result.targets !== 'object' || result.targets === null) {
      out.push(s);
      if (result) results.set(s.name, result);
      continue;
    }
    const targets = Object.entries((result as unknown as MultiResults).targets);
    const baselines = s.baseline as string | Record<string, string> | undefined;
    targets.forEach(([target, value], k) => {
      const name = `${s.name}:${target}`;
      const baseline = typeof baselines === 'object' ? baselines[target] : k === 0 ? baselines : undefined;
      out.push({ ...s, name, label: `${s.label} · target ${target}`, ...(baseline ? { baseline } : { baseline: undefined }) });
      results.set(name, { ...value, experiment: name });
    });
  }
  return { study: out, results };
}
