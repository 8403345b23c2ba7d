import type { Backbone } from './backbone.js';
import { architecture } from './archs/registry.js';
import { torchvisionBackbone } from './archs/torchvision-backbone.js';
import { npmBackbones } from './npm-backbones/registry.js';

/** The backbone model.arch names, if it is one (torchvision's or an npm package's); from-scratch nets are models.ts's. */
export function backboneOf(arch: string): Backbone | undefined {
  const torchvision = architecture(arch);
  if (torchvision) return torchvisionBackbone(torchvision);
  return Object.values(npmBackbones).find((backbone) => backbone.name === arch);
}
