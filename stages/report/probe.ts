/** How close to the probe a network may come before the report calls it a match (AUC). */
export const PROBE_MARGIN = 0.02;

/**
 * What the baseline probe says about a phase: which networks do not beat logistic regression on
 * pixels by more than PROBE_MARGIN AUC. Such a network has learnt a pixel-level shortcut the
 * probe also sees, or nothing beyond it.
 */
export function probeVerdict(probe: { name: string; auc: number }, networks: readonly { name: string; auc: number }[]): string {
  if (networks.length === 0) return '';
  const matched = networks.filter((n) => n.auc < probe.auc + PROBE_MARGIN);
  const what = `the baseline probe (${probe.name}: logistic regression on pixels, AUC ${probe.auc.toFixed(3)})`;
  if (matched.length === 0) return `Every network here beats ${what} by more than ${PROBE_MARGIN} AUC.`;
  return (
    `${matched.length} of ${networks.length} networks (${matched.map((m) => m.name).join(', ')}) do not beat ${what} by more than ${PROBE_MARGIN} AUC: ` +
    `the task has a pixel-level shortcut the probe also uses, or these networks learn nothing more than it does.`
  );
}
