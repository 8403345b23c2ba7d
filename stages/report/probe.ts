/** How close to the probe a network may come before the report calls it a match (AUC). */
export const PROBE_MARGIN = 0.02;

/**
 * What the baseline probe says about a phase. A network within PROBE_MARGIN AUC of logistic
 * regression on pixels has learnt a pixel-level shortcut the probe also sees, or nothing beyond
 * it; one further below has learnt less than a linear model of the pixels, at this data size
 * and training budget.
 */
export function probeVerdict(probe: { name: string; auc: number }, networks: readonly { name: string; auc: number }[]): string {
  if (networks.length === 0) return '';
  const what = `the baseline probe (${probe.name}: logistic regression on pixels, AUC ${probe.auc.toFixed(3)})`;
  const matched = networks.filter((n) => Math.abs(n.auc - probe.auc) <= PROBE_MARGIN);
  const below = networks.filter((n) => n.auc < probe.auc - PROBE_MARGIN);
  const names = (list: readonly { name: string }[]) => list.map((m) => m.name).join(', ');
  if (matched.length === 0 && below.length === 0) return `Every network here beats ${what} by more than ${PROBE_MARGIN} AUC.`;
  const parts: string[] = [];
  if (matched.length) parts.push(`${matched.length} of ${networks.length} networks (${names(matched)}) come within ${PROBE_MARGIN} AUC of ${what}: the task has a pixel-level shortcut the probe also uses, or these networks learn nothing more than it does.`);
  if (below.length) parts.push(`${below.length} of ${networks.length} networks (${names(below)}) score below ${matched.length ? 'it' : what}: at this data size and training budget they learn less than a linear model of the pixels sees (more epochs, another learning rate, or an input normalisation that keeps what the probe uses).`);
  return parts.join(' ');
}
