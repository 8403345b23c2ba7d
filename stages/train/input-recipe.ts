import type { Backbone } from './backbone.js';
import { IMAGENET } from './data.js';

export type Normalization = 'imagenet' | 'real' | 'backbone';

/** The input edge a network reads: data.size, else the backbone's recipe, else 32 from scratch (what `train` trains at and `explain` explains at). */
export function inputSize(size: number | undefined, backbone: Backbone | undefined): number {
  return size ?? backbone?.recipe.size ?? 32;
}

/**
 * What the images are normalised with: the backbone's recipe for a pretrained arch and ImageNet's
 * from scratch unless train.normalization says otherwise; `real` asks the caller for the real
 * training images' statistics.
 */
export function normalisationOf(setting: Normalization | undefined, backbone: Backbone | undefined, realStats: () => { mean: number[]; std: number[] }): { mean: number[]; std: number[] } {
  const chosen = setting ?? (backbone ? 'backbone' : 'imagenet');
  if (chosen === 'real') return realStats();
  return chosen === 'backbone' && backbone ? backbone.recipe : IMAGENET;
}
