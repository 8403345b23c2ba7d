/**
 * The learning rate of each optimiser step. `cosine` (the default, and the only schedule before
 * train.schedule existed) anneals once per epoch; `onecycle` is PyTorch's OneCycleLR, per step
 * (test/fixtures/schedules: equal to torch.optim.lr_scheduler.OneCycleLR step by step); `step`
 * is StepLR per epoch; `constant` keeps train.lr.
 */
export type Schedule = 'cosine' | 'onecycle' | 'step' | 'constant';

export interface ScheduleParams {
  lr: number;
  epochs: number;
  schedule: Schedule;
  /** onecycle: PyTorch's arguments (max_lr is train.lr). */
  onecycle: { div_factor: number; final_div_factor: number; pct_start: number };
  /** step: multiply by gamma every step_size epochs. */
  step_size?: number;
  gamma: number;
}

const annealCos = (start: number, end: number, pct: number) => end + ((start - end) / 2) * (1 + Math.cos(Math.PI * pct));

/** PyTorch's OneCycleLR (anneal_strategy='cos', two phases) at optimiser step `step` of `total`. */
export function oneCycle(maxLr: number, total: number, step: number, { div_factor, final_div_factor, pct_start }: ScheduleParams['onecycle']): number {
  const initial = maxLr / div_factor;
  const min = initial / final_div_factor;
  const warmEnd = pct_start * total - 1;
  const end = total - 1;
  if (step <= warmEnd) return annealCos(initial, maxLr, step / warmEnd);
  return annealCos(maxLr, min, (step - warmEnd) / (end - warmEnd));
}

/** The rate for step `stepInEpoch` of epoch `epoch` (both from 0), `stepsPerEpoch` steps an epoch. */
export function learningRate(p: ScheduleParams, epoch: number, stepInEpoch: number, stepsPerEpoch: number): number {
  switch (p.schedule) {
    case 'constant':
      return p.lr;
    case 'step':
      return p.lr * p.gamma ** Math.floor(epoch / (p.step_size ?? Math.max(1, Math.round(p.epochs / 3))));
    case 'onecycle':
      return oneCycle(p.lr, p.epochs * stepsPerEpoch, epoch * stepsPerEpoch + stepInEpoch, p.onecycle);
    default:
      return p.lr * 0.5 * (1 + Math.cos((Math.PI * epoch) / p.epochs));
  }
}
