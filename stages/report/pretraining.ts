import type { StudyInfo } from '../runtime/study.js';

/** Below this Holm-adjusted p, the report calls a difference from the from-scratch net real. */
export const ALPHA = 0.05;

export interface PretrainingResult {
  name: string;
  label: string;
  baseline: string;
  /** AUC minus the from-scratch baseline's, over the same folds. */
  delta: number;
  /** Corrected resampled t-test, and Holm's adjustment across the report. */
  p: number;
  holm: number;
}

/**
 * Whether pretraining helps, and by how much: each pretrained experiment (question:
 * pretraining) against its from-scratch baseline, on the same folds and the same corrected
 * t-test as every other comparison, one sentence a phase.
 */
export function pretrainingVerdict(results: readonly PretrainingResult[]): string {
  if (results.length === 0) return '';
  const best = [...results].sort((a, b) => b.delta - a.delta)[0]!;
  const signed = (d: number) => `${d >= 0 ? '+' : ''}${d.toFixed(3)}`;
  const each = results.map((r) => `${r.name} ${signed(r.delta)} AUC vs ${r.baseline} (p ${r.p.toFixed(3)}, Holm ${r.holm.toFixed(3)})`).join('; ');
  const helps = results.filter((r) => r.delta > 0 && r.holm < ALPHA);
  const hurts = results.filter((r) => r.delta < 0 && r.holm < ALPHA);
  let verdict: string;
  if (helps.length) verdict = `Pretraining helps: ${helps.map((r) => r.name).join(', ')} beat${helps.length === 1 ? 's' : ''} the from-scratch net beyond chance (Holm-adjusted p < ${ALPHA}); the largest gain is ${signed(best.delta)} AUC (${best.name}: ${best.label}).`;
  else if (hurts.length === results.length) verdict = `Pretraining hurts here: every pretrained backbone scores below the from-scratch net beyond chance (Holm-adjusted p < ${ALPHA}).`;
  else verdict = `Pretraining does not measurably help here: no pretrained backbone beats the from-scratch net beyond chance (Holm-adjusted p < ${ALPHA}; best ${signed(best.delta)} AUC, ${best.name})${best.delta > 0 ? ', so more folds or data would be needed to tell' : ''}.`;
  return `${verdict} Each: ${each}.`;
}

export function pretrainingResults(members: readonly StudyInfo[], comparisons: ReadonlyMap<string, { p: number; holm: number; delta: number }>): PretrainingResult[] {
  return members.flatMap((s) => {
    const test = comparisons.get(s.name);
    return s.question === 'pretraining' && s.baseline && test ? [{ name: s.name, label: s.label, baseline: s.baseline, ...test }] : [];
  });
}
