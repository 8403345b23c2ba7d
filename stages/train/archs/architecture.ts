import type { TORCHVISION_ARCHS } from '../declaration.js';
import type { Seeds, Tensor } from './torch-layers.js';

/** The torchvision architectures `train` builds (model.arch), by name: one file each, one line in registry.ts. */
export type TorchvisionArch = (typeof TORCHVISION_ARCHS)[number];

/** How torchvision trains and evaluates it (its IMAGENET1K_V1 transforms). */
export interface Recipe {
  size: number;
  mean: [number, number, number];
  std: [number, number, number];
}

/**
 * One torchvision architecture, built layer for layer with torchvision's module paths as layer
 * names, so a state_dict loads onto it key by key (torch-weights.ts).
 */
export interface Architecture {
  name: TorchvisionArch;
  recipe: Recipe;
  /** The smallest input edge its downsampling takes. */
  minSize: number;
  /** state_dict key prefixes of torchvision's classifier, which the task's head replaces. */
  classifierPrefixes: string[];
  /** From the NHWC image to the pooled feature vector (what `freeze: backbone` caches). */
  features(input: Tensor, seeds: Seeds): Tensor;
  /** torchvision's own classifier on those features (`num_classes` outputs). */
  classifier(features: Tensor, classes: number, seeds: Seeds): Tensor;
}
