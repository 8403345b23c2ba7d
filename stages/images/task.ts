import { StageError } from '../runtime/stage.js';

export type Task = 'binary' | 'multiclass' | 'regression';

export interface TaskDecision {
  task: Task;
  /** In label order: for a binary study the negative class first (label 0), then the positive (label 1). */
  classes: { name: string; label: number; count: number }[];
  positive?: string;
  /** The manifest's numeric label for a raw label. */
  labelOf(raw: string): number;
}

/** Names that mean "the class to detect" when a binary study does not say (the bundled real-vs-fake layout). */
export const CONVENTIONAL_POSITIVE = ['fake', 'positive', 'pos', '1', 'yes', 'true'];

/**
 * The task the labels describe: two classes are binary, numeric labels a regression target,
 * anything else multi-class; `task:` overrides, and a contradiction is an error listing the classes.
 */
export function decideTask(labels: readonly string[], options: { task?: 'auto' | Task; positive?: string }): TaskDecision {
  const counts = new Map<string, number>();
  for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  const names = [...counts.keys()].sort();
  const listing = names.map((n) => `${n} (${counts.get(n)})`).join(', ');
  const numeric = names.every((n) => n.trim() !== '' && Number.isFinite(Number(n)));
  const requested = options.task ?? 'auto';
  // Naming a positive class says the study is binary, whatever the folders hold.
  const task: Task = requested !== 'auto' ? requested : names.length === 2 || options.positive !== undefined ? 'binary' : numeric ? 'regression' : 'multiclass';

  if (task === 'binary') {
    if (names.length !== 2) {
      throw new StageError(`a binary study needs exactly two classes; found ${names.length}: ${listing}. Keep two class folders (or labels), or set task: multiclass`);
    }
    const positive = options.positive ?? names.find((n) => CONVENTIONAL_POSITIVE.includes(n.toLowerCase()));
    if (positive === undefined) throw new StageError(`two classes, ${listing}: say which one is positive (label 1): with: { positive: ${names[1]} }`);
    if (!names.includes(positive)) throw new StageError(`positive: "${positive}" is not one of the classes (${listing})`);
    const negative = names.find((n) => n !== positive)!;
    return {
      task,
      positive,
      classes: [
        { name: negative, label: 0, count: counts.get(negative)! },
        { name: positive, label: 1, count: counts.get(positive)! },
      ],
      labelOf: (raw) => (raw === positive ? 1 : 0),
    };
  }
  if (options.positive !== undefined) throw new StageError(`positive: names the positive class of a binary study; this one is ${task} (${listing})`);
  if (task === 'regression') {
    const bad = names.find((n) => !Number.isFinite(Number(n)));
    if (bad !== undefined) throw new StageError(`task: regression needs numeric labels; "${bad}" is not a number`);
    return { task, classes: [], labelOf: (raw) => Number(raw) };
  }
  const index = new Map(names.map((n, i) => [n, i]));
  return { task, classes: names.map((n, i) => ({ name: n, label: i, count: counts.get(n)! })), labelOf: (raw) => index.get(raw)! };
}
